"""Registry changes picked up without a restart (data standard §7): poll the directory's fingerprint,
reload when it changes, hand the new registry to whoever listens, and keep the current registry
when the new one does not validate (every problem logged, that version not tried again).

One mechanism for every stage that keeps the registry in memory; a stage passes its own listeners
(e.g. alerting rebuilds its names, reading tags and tokens).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from pathlib import Path

from hazmon.registry.loader import Registry, RegistryError, fingerprint, load_registry

log = logging.getLogger(__name__)

Listener = Callable[[Registry], Awaitable[None] | None]


class RegistryWatch:
    def __init__(self, directory: Path, current: Registry) -> None:
        self._dir = directory
        self.current = current
        self._refused_fingerprint: str | None = None
        self.listeners: list[Listener] = []

    async def check(self) -> bool:
        """Reload if the files changed and tell the listeners; True when a new registry is in use. An
        unreadable directory keeps the current registry."""
        try:
            seen = await asyncio.to_thread(fingerprint, self._dir)
        except OSError as exc:
            log.warning("registry directory unreadable, keeping the previous registry", extra={"error": str(exc)})
            return False
        if seen in (self.current.fingerprint, self._refused_fingerprint):
            return False
        try:
            registry = await asyncio.to_thread(load_registry, self._dir)
        except RegistryError as exc:
            self._refused_fingerprint = seen
            for problem in exc.problems:
                log.warning("registry change refused, keeping the previous registry", extra={"problem": str(problem)})
            return False
        self.current = registry
        log.info("registry reloaded", extra={"enterprises": len(registry.enterprises), "points": len(registry.points),
                                             "fingerprint": registry.fingerprint[:12]})
        for listener in self.listeners:
            outcome = listener(registry)
            if outcome is not None:
                await outcome
        return True

    async def watch(self, period_s: float) -> None:
        """Check every ``period_s`` until cancelled."""
        while True:
            await asyncio.sleep(period_s)
            await self.check()
