"""Registry changes picked up without a restart: poll the directory's fingerprint, reload when it
changes, and keep the current registry when the new one does not validate."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from pathlib import Path

from hazmon.registry import RegistryError, load_registry
from hazmon.registry.loader import fingerprint
from ingest.directory import DeviceDirectory

log = logging.getLogger(__name__)


class RegistryWatch:
    def __init__(self, directory: Path) -> None:
        self._dir = directory
        self.current = DeviceDirectory(frozenset(), {}, {}, "")
        self._refused_fingerprint: str | None = None

    async def load(self) -> None:
        """The first load: raises :class:`RegistryError` (every problem) when the registry does not validate."""
        self.current = DeviceDirectory.from_registry(await asyncio.to_thread(load_registry, self._dir))

    async def check(self) -> bool:
        """Reload if the files changed; True when a new registry is in use."""
        seen = await asyncio.to_thread(fingerprint, self._dir)
        if seen in (self.current.fingerprint, self._refused_fingerprint):
            return False
        try:
            registry = await asyncio.to_thread(load_registry, self._dir)
        except RegistryError as exc:
            self._refused_fingerprint = seen
            for problem in exc.problems:
                log.warning("registry change refused, keeping the previous registry",
                            extra={"problem": str(problem)})
            return False
        self.current = DeviceDirectory.from_registry(registry)
        log.info("registry reloaded", extra={"enterprises": len(self.current.enterprises),
                                             "devices": len(self.current.event_points)})
        return True

    async def watch(self, period_s: float, changed: Callable[[DeviceDirectory], None]) -> None:
        """Check every ``period_s``; ``changed`` gets each new registry in use."""
        while True:
            await asyncio.sleep(period_s)
            try:
                if await self.check():
                    changed(self.current)
            except OSError as exc:
                log.warning("registry directory unreadable, keeping the previous registry", extra={"error": str(exc)})
