"""``hazmon prefecture``: the upper side of §11 (docs/uplink.md): ``run`` the prefecture's ingest, record, down
sender and API; ``broker DIR`` writes its broker's accounts (one per county, passwords kept in DIR/counties.json),
ACL and TLS certificates for Mosquitto."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from pathlib import Path


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import signal

    from hazmon.settings import get_settings

    from prefecture.service import Prefecture

    async def serve() -> None:
        """Until SIGTERM or SIGINT; what was received and not yet recorded comes again from the broker's session."""
        prefecture = Prefecture(get_settings())
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        await prefecture.start()
        try:
            await stop.wait()
        finally:
            await prefecture.stop()

    asyncio.run(serve())
    return 0


BrokerCommand = Callable[[argparse.Namespace], int]
"""Writes the prefecture broker's files from ``prefecture broker``'s arguments. The broker is the
operator's to manage (``hzctl``): the command line that registers ``prefecture`` passes it."""


def register(subparsers: argparse._SubParsersAction, broker_command: BrokerCommand) -> None:
    parser = subparsers.add_parser("prefecture", help="the prefecture (州): its counties' reports, record and actions")
    sub = parser.add_subparsers(dest="prefecture_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="ingest the counties' up topics, serve the prefecture API, send actions down")
    run.set_defaults(handler=_run)
    broker = sub.add_parser("broker", help="write the prefecture broker's accounts (one per county) and ACL")
    broker.add_argument("directory", type=Path, help="where mosquitto.conf, passwd, acl and counties.json go")
    broker.add_argument("--port", type=int, default=1884)
    broker.add_argument("--host", default="0.0.0.0")
    broker.add_argument("--tls-name", action="append", default=[], metavar="NAME",
                        help="TLS only, with a server certificate for NAME (repeatable; the CA in DIR/tls/ca.crt goes to the counties)")
    broker.add_argument("--unhashed", action="store_true", help="leave the password file for the broker's container to hash")
    broker.set_defaults(handler=broker_command)
