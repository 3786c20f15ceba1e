"""Secrets kept apart from the registry: MQTT passwords and API tokens.

One JSON file (mode 0600, default ``HOME/secrets.json``), created on first use and extended with
new enterprises as the registry grows. Nothing here is ever logged; ``hazmon secrets show`` prints
it on demand.
"""

from __future__ import annotations

import os
import secrets as pysecrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, Field

Role = Literal["duty", "enterprise"]


class EnterpriseSecrets(BaseModel):
    mqtt_password: str
    api_token: str


class Secrets(BaseModel):
    platform_mqtt_password: str
    duty_token: str
    enterprises: dict[str, EnterpriseSecrets] = Field(default_factory=dict)

    def enterprise(self, enterprise_id: str) -> EnterpriseSecrets:
        try:
            return self.enterprises[enterprise_id]
        except KeyError:
            raise KeyError(f"no secrets for enterprise {enterprise_id!r}: is it in the registry?") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a bearer token belongs to."""

    role: Role
    enterprise: str | None = None


def _new_secret() -> str:
    return pysecrets.token_urlsafe(24)


def _write_private(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(data)
    os.chmod(tmp, 0o600)
    os.replace(tmp, path)


def load_secrets(path: Path, enterprise_ids: list[str] | tuple[str, ...] = ()) -> Secrets:
    """Read the secrets file, creating it or adding missing enterprises as needed."""
    if path.is_file():
        current = Secrets.model_validate(orjson.loads(path.read_bytes()))
    else:
        current = Secrets(platform_mqtt_password=_new_secret(), duty_token=_new_secret())
    missing = [e for e in enterprise_ids if e not in current.enterprises]
    for enterprise_id in missing:
        current.enterprises[enterprise_id] = EnterpriseSecrets(mqtt_password=_new_secret(), api_token=_new_secret())
    if missing or not path.is_file():
        _write_private(path, orjson.dumps(current.model_dump(), option=orjson.OPT_INDENT_2))
    return current


def token_index(current: Secrets) -> dict[str, Principal]:
    """Bearer token → principal, for the API."""
    index = {current.duty_token: Principal("duty")}
    index.update({s.api_token: Principal("enterprise", e) for e, s in current.enterprises.items()})
    return index


def platform_secrets() -> Secrets:
    """The secrets of the configured registry (every enterprise in it has an entry)."""
    from hazmon.registry import load_registry
    from hazmon.settings import get_settings

    settings = get_settings()
    return load_secrets(settings.secrets_path, tuple(load_registry(settings.registry_dir).enterprises))
