"""One alerting process: the service plus its HTTP API on ``api_host:api_port``, until stopped.

Bound to every interface (``0.0.0.0``, ``::``), the API is meant to be reached from other machines, and
the links in notifications (an officer's phone) cannot point at the bind address: the process then
refuses to start without ``alerting_public_url``.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import signal

from aiohttp import web

from hazmon.registry import load_registry
from hazmon.secrets import load_secrets, token_index
from hazmon.settings import Settings

from alerting.api.auth import PRINCIPAL
from alerting.api.routes import build_app
from alerting.desk.accounts import Accounts
from alerting.desk.handover import Handovers
from alerting.desk.source import DeskStores
from alerting.service import AlertingService

log = logging.getLogger(__name__)
ALL_INTERFACES = frozenset({"0.0.0.0", "::", ""})


def check_public_url(settings: Settings) -> None:
    """Refuse (SystemExit with the reason) an API bound to every interface without ``alerting_public_url``."""
    if settings.api_host in ALL_INTERFACES and not settings.alerting_public_url:
        raise SystemExit(
            f"alerting: api_host is {settings.api_host or 'empty'} (every interface) but alerting_public_url is not set: "
            f"the alarm links in notifications would point at http://{settings.api_host}:{settings.api_port}, which no "
            "officer's phone can open. Set HAZMON_ALERTING_PUBLIC_URL to the address officers reach the API at "
            "(e.g. https://alarms.example.gov.cn).")


async def serve(settings: Settings) -> None:
    check_public_url(settings)
    registry = load_registry(settings.registry_dir)
    tokens = token_index(load_secrets(settings.secrets_path, tuple(registry.enterprises)))
    service = AlertingService(settings, registry)
    await service.start()
    records = settings.desk_path
    desk = DeskStores(Accounts(records, settings.desk_session_h), Handovers(records))
    app = build_app(service, tokens, desk)
    service.registry_watch.listeners.append(functools.partial(app[PRINCIPAL].reload, settings.secrets_path))
    runner = web.AppRunner(app, access_log=None)
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
        desk.close()
