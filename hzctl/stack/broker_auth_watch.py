"""``hazmon stack broker-auth --watch``: a deployment's broker accounts follow its registry.

In docker-compose the broker (its own container, its own image) cannot run hazmon; hazmon writes
its accounts as plain ``user:password`` lines and an ACL into a volume the broker's container reads
(``deploy/mosquitto/broker.sh`` hashes them and reloads the broker with SIGHUP). Written once, an
enterprise removed from ./registry kept its account until the broker's container restarted; this
watch writes them again whenever the registry changes (the same ``RegistryWatch`` ingest, rules and
alerting use: a registry that does not validate keeps the accounts it had).

Each file is written aside and renamed into place, so a reader sees the old file or the new one,
never half of one. With ``group`` (the broker's user's group, 1883 in eclipse-mosquitto) the files
are readable by that group (mode 0640): the broker's container runs as that user, not as root.
"""

from __future__ import annotations

import asyncio
import logging
import os
from pathlib import Path

from hazmon.registry import Registry, load_registry
from hazmon.registry.watch import RegistryWatch
from hazmon.settings import Settings
from hzctl.stack.mosquitto import Mosquitto, write_broker_auth

log = logging.getLogger(__name__)


def write_accounts(settings: Settings, out: Path, group: int | None = None) -> int:
    """Write ``passwd`` (plain) and ``acl`` for the registry as it is into ``out``, each renamed into
    place; returns the number of enterprise accounts."""
    current, accounts = Mosquitto(settings).secrets()
    passwd, acl = write_broker_auth(out / ".staging", settings.mqtt_platform_user, current, accounts)
    for path in (passwd, acl):
        if group is not None:
            os.chown(path, -1, group)
            os.chmod(path, 0o640)
        os.replace(path, out / path.name)
    return len(accounts)


async def watch_accounts(settings: Settings, out: Path, group: int | None, poll_s: float) -> None:
    """Write the accounts again each time the registry changes (checked every ``poll_s``), until cancelled."""
    registry = await asyncio.to_thread(load_registry, settings.registry_dir)
    watch = RegistryWatch(settings.registry_dir, registry)

    async def rewrite(_: Registry) -> None:
        enterprises = await asyncio.to_thread(write_accounts, settings, out, group)
        log.info("broker accounts rewritten", extra={"enterprises": enterprises, "out": str(out)})

    watch.listeners.append(rewrite)
    log.info("watching the registry for broker accounts", extra={"registry": str(settings.registry_dir),
                                                                 "every_s": poll_s})
    await watch.watch(poll_s)
