"""One alerting process: the service plus its HTTP API on ``api_host:api_port``, until stopped."""

from __future__ import annotations

import asyncio
import logging
import signal

from aiohttp import web

from hazmon.registry import load_registry
from hazmon.secrets import load_secrets, token_index
from hazmon.settings import Settings

from alerting.api.routes import build_app
from alerting.service import AlertingService

log = logging.getLogger(__name__)


async def serve(settings: Settings) -> None:
    registry = load_registry(settings.registry_dir)
    tokens = token_index(load_secrets(settings.secrets_path, tuple(registry.enterprises)))
    service = AlertingService(settings, registry)
    await service.start()
    runner = web.AppRunner(build_app(service, tokens), access_log=None)
    await runner.setup()
    await web.TCPSite(runner, settings.api_host, settings.api_port).start()
    log.info("alerting running", extra={"api": f"http://{settings.api_host}:{settings.api_port}",
                                        "channels": len(service.deliverer.channels)})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        await stop.wait()
    finally:
        await runner.cleanup()
        await service.stop()
