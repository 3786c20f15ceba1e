"""``hazmon alerting run``: alarm state, escalation, notifications and the API in one process (its InfluxDB points go to the recorder)."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from hazmon.settings import get_settings

    from alerting.process import serve

    asyncio.run(serve(get_settings()))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("alerting", help="alarm lifecycle, notifications, duty API (run the recorder beside it)")
    sub = parser.add_subparsers(dest="alerting_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="run the alerting process (HTTP API on settings.api_host:api_port)")
    run.set_defaults(handler=_run)
