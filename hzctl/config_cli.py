"""``hazmon config show``: every setting's value as this process sees it, and where it comes from.

One line per setting, ``HAZMON_NAME=value  # source`` (source ``environment``, ``.env`` or
``default``), ready to paste into an environment file. Values that open something (passwords,
tokens, signing secrets, webhook URLs that carry an access token, the platform's secret MQTT
identity) are shown as ``****`` when set.
"""

from __future__ import annotations

import argparse
import json
import os
import re

from pydantic_settings import DotEnvSettingsSource

from hazmon.settings import Settings, get_settings

SECRET_NAMES = re.compile(r"password|token|secret|share_group|client_id|webhooks|_urls$|channels")
HIDDEN = "****"


def _shown(name: str, value: object) -> str:
    if value not in (None, "", [], {}) and SECRET_NAMES.search(name):
        return HIDDEN
    if isinstance(value, list | dict):
        return json.dumps(value, ensure_ascii=False)
    return "" if value is None else str(value)


def setting_lines(settings: Settings) -> list[str]:
    """``HAZMON_NAME=value  # source`` for every setting, in the order of ``hazmon/settings.py``."""
    prefix = settings.model_config.get("env_prefix", "")
    from_dotenv = DotEnvSettingsSource(Settings)()
    lines = []
    for name in Settings.model_fields:
        variable = f"{prefix}{name}".upper()
        source = "environment" if variable in os.environ else ".env" if name in from_dotenv else "default"
        lines.append(f"{variable}={_shown(name, getattr(settings, name))}  # {source}")
    return lines


def _show(_args: argparse.Namespace) -> int:
    print("\n".join(setting_lines(get_settings())))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("config", help="the settings this process sees")
    sub = parser.add_subparsers(dest="config_command", required=True, metavar="ACTION")
    sub.add_parser("show", help="every HAZMON_* setting, its value and where it comes from (secrets hidden)"
                   ).set_defaults(handler=_show)
