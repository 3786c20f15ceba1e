"""``hazmon secrets show [ENTERPRISE]``: print MQTT passwords, the platform's MQTT identity and API
tokens on demand."""

from __future__ import annotations

import argparse

from hazmon.secrets import platform_secrets
from hazmon.settings import get_settings


def _show(args: argparse.Namespace) -> int:
    current = platform_secrets()
    settings = get_settings()
    if args.enterprise:
        try:
            entry = current.enterprise(args.enterprise)
        except KeyError as exc:
            print(exc.args[0])
            return 1
        print(f"enterprise:     {args.enterprise}")
        print(f"mqtt username:  {args.enterprise}")
        print(f"mqtt password:  {entry.mqtt_password}")
        print(f"api token:      {entry.api_token}  (role enterprise)")
        return 0
    print(f"secrets file:   {settings.secrets_path}")
    print(f"platform mqtt:  {settings.mqtt_platform_user} / {current.platform_mqtt_password}")
    print(f"ingest mqtt:    share group {current.platform_mqtt_share_group}, "
          f"client ids {current.ingest_client_id(1)}, {current.ingest_client_id(2)}, …")
    print(f"duty api token: {current.duty_token}  (role duty)")
    for enterprise_id, entry in sorted(current.enterprises.items()):
        print(f"{enterprise_id}: mqtt password {entry.mqtt_password}  api token {entry.api_token}")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("secrets", help="MQTT passwords and API tokens")
    sub = parser.add_subparsers(dest="secrets_command", required=True, metavar="ACTION")
    show = sub.add_parser("show", help="print the secrets (of one enterprise, or all)")
    show.add_argument("enterprise", nargs="?", help="enterprise id")
    show.set_defaults(handler=_show)
