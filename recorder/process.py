"""One recorder process, until SIGTERM or SIGINT; it exits with an error when one of its loops stopped
(a supervisor or docker restarts it, and the writers resume from their committed offsets)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal

from hazmon.registry import load_registry
from hazmon.settings import Settings

from recorder.service import Recorder

log = logging.getLogger(__name__)
CHECK_S = 1.0


async def serve(settings: Settings) -> int:
    recorder = Recorder(settings, load_registry(settings.registry_dir))
    await recorder.start()
    log.info("recorder running", extra={"influx": settings.influx_url, "database": settings.influx_db,
                                        "topics": [writer.topic for writer in recorder.writers]})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        while not stop.is_set() and not recorder.dead_tasks():
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(CHECK_S):
                    await stop.wait()
    finally:
        dead = recorder.dead_tasks()
        await recorder.stop()
    if dead and not stop.is_set():
        log.error("recorder stopping: a loop stopped", extra={"tasks": dead})
        return 1
    return 0
