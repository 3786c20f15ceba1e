"""Broker accounts for a registry directory's enterprises on the local stack, as the simulator needs them."""

from __future__ import annotations

from pathlib import Path

from hazmon.settings import Settings


def broker_passwords(settings: Settings, registry_dir: Path) -> dict[str, str]:
    """Each enterprise of ``registry_dir``'s MQTT password, after the local broker gave them accounts
    (live: it reloads on SIGHUP). Passed to ``hazmon sim`` as its ``grant_accounts``."""
    from hzctl.stack.mosquitto import register_enterprises

    current = register_enterprises(settings, registry_dir)
    return {enterprise: entry.mqtt_password for enterprise, entry in current.enterprises.items()}
