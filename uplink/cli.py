"""``hazmon uplink run``: the county's reports to the upper platform (data standard §11, docs/uplink.md)."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from hazmon.registry import load_registry
    from hazmon.settings import get_settings

    from uplink.service import Uplink

    settings = get_settings()
    registry = load_registry(settings.registry_dir)

    async def serve() -> None:
        """Until SIGTERM or SIGINT; what was not acknowledged upward is sent again at the next start."""
        uplink = Uplink(settings, registry)   # its Kafka clients need the running loop
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        running = asyncio.create_task(uplink.run())
        await asyncio.wait([running, asyncio.create_task(stop.wait())], return_when=asyncio.FIRST_COMPLETED)
        running.cancel()
        await asyncio.gather(running, return_exceptions=True)
        if running.done() and not running.cancelled() and running.exception() is not None:
            raise running.exception()  # type: ignore[misc]

    asyncio.run(serve())
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("uplink", help="the county's reports to the upper platform (州), and its actions back")
    sub = parser.add_subparsers(dest="uplink_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="forward alarm changes to the upper broker (HAZMON_UPLINK_*), apply its actions")
    run.set_defaults(handler=_run)
