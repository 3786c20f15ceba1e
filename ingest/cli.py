"""``hazmon ingest run`` (the MQTT → Kafka adapter) and ``hazmon ingest check --enterprise ID``."""

from __future__ import annotations

import argparse


def _run(args: argparse.Namespace) -> int:
    import asyncio
    import signal


    from hazmon.kafka_topics import ensure_topics
    from hazmon.registry import RegistryError
    from hazmon.settings import get_settings
    from hazmon.topics import PlatformTopics
    from ingest.adapter import IngestAdapter

    settings = get_settings()
    if args.instance is not None:
        settings = settings.model_copy(update={"ingest_instance": args.instance})

    async def main() -> None:
        stop = asyncio.Event()
        loop = asyncio.get_running_loop()
        for signum in (signal.SIGTERM, signal.SIGINT):
            loop.add_signal_handler(signum, stop.set)
        # the topics ingest writes, with the platform's retention, before anything is produced (a producer
        # would create them with the broker's defaults; the dead-letter topic only at the first refusal)
        names = PlatformTopics.of(settings)
        await ensure_topics(settings, [names.readings, names.events, names.device_status, names.deadletter,
                                       names.ingest_stats])
        await IngestAdapter(settings).run(stop)

    try:
        asyncio.run(main())
    except RegistryError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"registry {settings.registry_dir}: {len(exc.problems)} problem(s); the adapter did not start")
        return 1
    return 0


def _check(args: argparse.Namespace) -> int:
    import asyncio

    from hazmon.settings import get_settings
    from ingest.check import render, watch_enterprise

    settings = get_settings()
    report = asyncio.run(watch_enterprise(settings, args.enterprise, args.seconds))
    print(render(report, args.enterprise, args.seconds, settings.language))
    return 0 if report.messages else 1


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("ingest", help="MQTT → Kafka edge adapter (data standard §2–§6)")
    sub = parser.add_subparsers(dest="ingest_command", required=True, metavar="ACTION")
    run = sub.add_parser("run", help="run the adapter until SIGTERM (drains in-flight messages first)")
    run.add_argument("--instance", type=int, help="number of this process among the adapters sharing the load "
                     "(default 1): each has its own persistent session under the installation's secret identity")
    run.set_defaults(handler=_run)
    check = sub.add_parser("check", help="watch an enterprise's topics and say what is accepted or refused, and why")
    check.add_argument("--enterprise", required=True, help="enterprise id")
    check.add_argument("--seconds", type=float, default=60.0, help="how long to watch (default 60)")
    check.set_defaults(handler=_check)
