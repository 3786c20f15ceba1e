"""``hazmon recorder run``: every InfluxDB write of the platform (readings, ingest counters, pipeline
metrics, alerting's alarm and risk lines) from Kafka, with InfluxDB's retention and downsampling."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    import asyncio

    from hazmon.settings import get_settings

    from recorder.process import serve

    return asyncio.run(serve(get_settings()))


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("recorder", help="Kafka → InfluxDB: readings, counters, metrics, alarm and risk series")
    sub = parser.add_subparsers(dest="recorder_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="run the recorder (InfluxDB at settings.influx_url, database influx_db)")
    run.set_defaults(handler=_run)
