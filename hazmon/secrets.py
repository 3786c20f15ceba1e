"""Secrets kept apart from the registry: MQTT passwords, the platform's MQTT identity, API tokens.

One JSON file (mode 0600, default ``HOME/secrets.json``), created on first use and extended with
new enterprises as the registry grows. Nothing here is ever logged; ``hazmon secrets show`` prints
it on demand.

The platform's MQTT identity (the shared-subscription group of the ingest processes and the prefix
of their client ids) is random per installation, like its password (data standard §2, rev. 1.1):
Mosquitto 2.0.11 lets any logged-in account join a shared subscription whose name it knows, and
take over the session of a client id it knows; an enterprise that knows neither can do neither.
"""

from __future__ import annotations

import os
import secrets as pysecrets
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import orjson
from pydantic import BaseModel, Field

Role = Literal["duty", "enterprise", "town", "prefecture"]   # tokens are duty or enterprise; desk accounts any


class EnterpriseSecrets(BaseModel):
    mqtt_password: str
    api_token: str


def _new_secret() -> str:
    return pysecrets.token_urlsafe(24)


def _new_mqtt_name() -> str:
    """Random, and valid as a share name and client id: letters, digits, ``-`` and ``_`` only."""
    return pysecrets.token_urlsafe(18)


class Secrets(BaseModel):
    platform_mqtt_password: str
    duty_token: str
    platform_mqtt_share_group: str = Field(default_factory=_new_mqtt_name)
    platform_mqtt_client_prefix: str = Field(default_factory=_new_mqtt_name)
    enterprises: dict[str, EnterpriseSecrets] = Field(default_factory=dict)

    def ingest_client_id(self, instance: int) -> str:
        """The MQTT client id (the persistent session) of ingest process number ``instance``."""
        return f"{self.platform_mqtt_client_prefix}-{instance}"

    def enterprise(self, enterprise_id: str) -> EnterpriseSecrets:
        try:
            return self.enterprises[enterprise_id]
        except KeyError:
            raise KeyError(f"no secrets for enterprise {enterprise_id!r}: is it in the registry?") from None


@dataclass(frozen=True, slots=True)
class Principal:
    """Who calls the API: a bearer token's role (and enterprise), or a duty desk officer's account."""

    role: Role
    enterprise: str | None = None
    officer: str | None = None                   # a desk account, as the alarm record names who acted
    enterprises: frozenset[str] | None = None    # role town: the enterprises of its town (from the registry)


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
    stored = orjson.loads(path.read_bytes()) if path.is_file() else {}
    if stored:
        current = Secrets.model_validate(stored)
    else:
        current = Secrets(platform_mqtt_password=_new_secret(), duty_token=_new_secret())
    missing = [e for e in enterprise_ids if e not in current.enterprises]
    for enterprise_id in missing:
        current.enterprises[enterprise_id] = EnterpriseSecrets(mqtt_password=_new_secret(), api_token=_new_secret())
    if missing or current.model_dump().keys() != stored.keys():  # new file, or one written before a field existed
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
