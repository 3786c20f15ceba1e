"""The fault bench of issue #20: the whole pipeline under a steady load with alarms injected every few
seconds, while faults come one after another; what each lost and how long the platform took to recover.

The servers that are faulted are the bench's own: a three-broker Kafka cluster (testbed/faults/cluster.py),
a Mosquitto (testbed/faults/mqtt_broker.py), a TCP proxy in front of the shared InfluxDB and one in front
of the webhook receiver (testbed/faults/proxy.py); ingest, a rules worker and alerting run as children
(testbed/pipeline.py). Devices publish QoS 1 and publish again what was not acknowledged
(testbed/faults/feed.py). Each fault has a phase of ``--seconds``: the fault at its start (a process
SIGKILLed or SIGTERMed and started again at once; a server away for a third of the phase, at most
``--outage-s``), then the rest of the phase to recover.

Per fault: ``readings_lost`` (acknowledged to a device in the phase, not in Kafka at the end),
``notifications_lost`` (alarms injected in the phase never notified; which: ``alarms_not_notified``), ``notifications_repeated``
(deliveries of a confirmation beyond the first), ``recovery_s`` (from the end of the fault until an
alarm injected after it was notified: one alarm's latency included; null if none was); and totals.
The last stdout line is one JSON object.

Usage: .venv/bin/python bench/faults.py --seconds 60 [--rate 5000] [--faults ingest-kill,kafka-broker]
"""

from __future__ import annotations

import argparse
import asyncio
import signal
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path

import orjson
from aiohttp import web

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import WebhookReceiver  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.secrets import load_secrets  # noqa: E402
from hazmon.settings import Settings, get_settings  # noqa: E402
from testbed.pipeline import IsolatedPipeline  # noqa: E402
from testbed.faults.cluster import Cluster  # noqa: E402
from testbed.faults.feed import Feed, Reading, progress, reading_keys  # noqa: E402
from testbed.faults.kafka_watch import TopicWatch  # noqa: E402
from testbed.faults.mqtt_broker import OwnBroker  # noqa: E402
from testbed.faults.proxy import Proxy  # noqa: E402
from testbed.kafka_admin import unique_name  # noqa: E402

ENTERPRISES = 120          # enough devices beyond the load's to inject a new alarm every few seconds
CONNECTIONS = 40
READINGS_PER_MESSAGE = 5   # about: a device's measured points per message (testbed/faults/feed.py)
ALARM_EVERY_S = 3.0


class Notifications(WebhookReceiver):
    """bench/pipeline.py's receiver, keeping (point@enterprise, monotonic arrival) of every confirmation, repeats too."""

    def __init__(self) -> None:
        super().__init__()
        self.arrivals: list[tuple[str, float]] = []

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        for change in (await request.json())["changes"]:
            if change["kind"] == "confirmed":
                self.arrivals.append((f"{change['alarm']['point']}@{change['alarm']['enterprise']}", now))
        return web.Response(text="ok")


class Bench:
    """The servers, the pipeline and the faults."""

    def __init__(self, settings: Settings, root: Path, rate: float, outage_s: float) -> None:
        self.settings, self.root, self.outage_s = settings, root, outage_s
        self.broker = OwnBroker(settings, ENTERPRISES, 22)
        self.cluster = Cluster(settings, root / "cluster")
        self.receiver = Notifications()
        self.webhook = Proxy("127.0.0.1", self.receiver.port)
        influx_port = settings.influx_port
        self.influx = Proxy("127.0.0.1", influx_port)
        self.rate = rate

    def pipeline(self) -> IsolatedPipeline:
        own = self.broker.settings
        secrets = load_secrets(own.secrets_path)
        run = IsolatedPipeline(self.cluster.clients(self.settings.model_copy(update={"secrets_file": own.secrets_path})),
                               self.root / "home", own.registry_dir, unique_name(), secrets.duty_token,
                               (f"http://127.0.0.1:{self.webhook.port}/hook",),
                               enterprises=tuple(load_registry(own.registry_dir).enterprises))
        run.env.update({**self.broker.env, **self.cluster.env})
        self.feed = Feed(own, secrets, own.registry_dir, CONNECTIONS, self.rate / READINGS_PER_MESSAGE, ALARM_EVERY_S)
        return run

    def faults(self, run: IsolatedPipeline) -> dict[str, Callable[[], Awaitable[None]]]:
        """Each fault: it happens, lasts, and ends when the awaitable returns."""
        def process(name: str, start: Callable[[], object], signum: int) -> Callable[[], Awaitable[None]]:
            async def fault() -> None:
                await asyncio.to_thread(run.supervisor.kill if signum == signal.SIGKILL else run.supervisor.stop, name)
                start()
            return fault

        async def server_away(down: Callable[[], Awaitable[None]], up: Callable[[], Awaitable[None]]) -> None:
            await down()
            await asyncio.sleep(self.outage_s)
            await up()

        async def kafka_broker() -> None:
            async with TopicWatch(self.cluster.settings.kafka_bootstrap, run.names.readings) as watch:
                leaders = list((await watch.leaders()).values())
            victim = self.cluster.nodes[max(set(leaders), key=leaders.count) - 1]
            victim.process.signal(signal.SIGKILL)
            await asyncio.sleep(self.outage_s)
            await asyncio.to_thread(self.cluster.restart, victim)

        async def mosquitto(restart: Callable[[], None]) -> None:
            await asyncio.to_thread(restart)

        return {
            "ingest-kill": process("ingest", run.start_ingest, signal.SIGKILL),
            "ingest-term": process("ingest", run.start_ingest, signal.SIGTERM),
            "rules-kill": process("rules", run.start_rules, signal.SIGKILL),
            "rules-term": process("rules", run.start_rules, signal.SIGTERM),
            "alerting-kill": process("alerting", run.start_alerting, signal.SIGKILL),
            "alerting-term": process("alerting", run.start_alerting, signal.SIGTERM),
            "mosquitto-restart": lambda: mosquitto(self.broker.restart_keeping_its_persistence),
            "mosquitto-kill": lambda: mosquitto(self.broker.restart_after_a_crash),
            "influxdb-down": lambda: server_away(self.influx.down, self.influx.up),
            "webhook-down": lambda: server_away(self.webhook.down, self.webhook.up),
            "kafka-broker": kafka_broker,
        }

    async def run(self, seconds: float, chosen: list[str]) -> dict:
        await asyncio.to_thread(self.broker.start)
        await asyncio.to_thread(self.cluster.start)
        web_runner = await self.receiver.start()
        await self.webhook.up()
        await self.influx.up()
        run = self.pipeline()
        run.env["HAZMON_INFLUX_URL"] = self.influx.url
        stop = asyncio.Event()
        try:
            await run.start()
            feeding = asyncio.create_task(self.feed.run(stop))
            await asyncio.sleep(20)   # the rules worker joins its group; the first alarms
            faults = self.faults(run)
            phases: list[tuple[str, float, float, float]] = []   # name, start, end of the fault, end of the phase
            for name in chosen:
                started = time.monotonic()
                progress(f"fault {name}")
                await faults[name]()
                ended = time.monotonic()
                await asyncio.sleep(max(0.0, seconds - (ended - started)))
                repeat = sum(1 for phase in phases if phase[0].split("#")[0] == name)
                phases.append((f"{name}#{repeat + 1}" if repeat else name, started, ended, time.monotonic()))
            stop.set()
            await feeding
            progress("faults done; counting")
            await asyncio.sleep(30)    # the last notifications, the last readings
            in_kafka = reading_keys([r async for r in run.records(run.names.readings)])
            return report(self.feed, in_kafka, self.receiver.arrivals, phases, self.rate, seconds)
        finally:
            stop.set()
            await self.feed.close()
            await asyncio.to_thread(run.supervisor.stop_all)
            await run.drop_database()
            await self.webhook.down()
            await self.influx.down()
            await web_runner.cleanup()
            await asyncio.to_thread(self.cluster.stop)
            await asyncio.to_thread(self.broker.stop)


def report(feed: Feed, in_kafka: list[Reading], arrivals: list[tuple[str, float]],
           phases: list[tuple[str, float, float, float]], rate: float, seconds: float) -> dict:
    """Per fault and in total: readings lost, notifications lost and repeated, recovery time."""
    present = set(in_kafka)
    first_arrival: dict[str, float] = {}
    for key, at in arrivals:
        first_arrival.setdefault(key, at)
    wall_ms = time.time() * 1000 - time.monotonic() * 1000   # monotonic → epoch ms, for the readings' own times
    per_fault = {}
    for name, started, ended, finished in phases:
        acked = {r for r in feed.acked if started * 1000 + wall_ms <= r[3] < finished * 1000 + wall_ms}
        alarms = {k for k, at in feed.alarms.items() if started <= at < finished}
        after = sorted((at, k) for k, at in feed.alarms.items() if ended <= at < finished)
        notified_after = [first_arrival[k] for _, k in after if k in first_arrival]
        per_fault[name] = {
            "readings_acked": len(acked), "readings_lost": len(acked - present),
            "alarms": len(alarms), "notifications_lost": len(alarms - set(first_arrival)),
            "alarms_not_notified": sorted(alarms - set(first_arrival)),
            "notifications_repeated": sum(1 for key, _ in arrivals if key in alarms) - len(alarms & set(first_arrival)),
            "fault_s": round(ended - started, 1),
            "recovery_s": round(min(notified_after) - ended, 1) if notified_after else None}
    lost = len(feed.acked - present)
    alarms = set(feed.alarms)
    return {"offered_readings_per_s": rate, "seconds_per_fault": seconds, "faults": per_fault,
            "readings_acked": len(feed.acked), "readings_lost": lost,
            "readings_repeated": sum(1 for r in in_kafka if r in feed.acked) - len(feed.acked & present),
            "alarms": len(alarms), "notifications_lost": len(alarms - set(first_arrival)),
            "notifications_repeated": len(arrivals) - len(set(first_arrival)),
            "max_recovery_s": max((f["recovery_s"] for f in per_fault.values() if f["recovery_s"] is not None), default=None)}


ALL_FAULTS = ("ingest-kill", "ingest-term", "rules-kill", "rules-term", "alerting-kill", "alerting-term",
              "mosquitto-restart", "influxdb-down", "webhook-down", "kafka-broker")
OTHER_FAULTS = ("mosquitto-kill",)   # not in the goal: what a crash of the broker loses (docs/reliability.md)

if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="each fault's phase: the fault, then its recovery")
    parser.add_argument("--rate", type=float, default=5000.0, help="offered readings/s")
    parser.add_argument("--outage-s", type=float, default=20.0, help="how long a server is away (InfluxDB, webhook, Kafka broker)")
    parser.add_argument("--faults", default=",".join(ALL_FAULTS), help=f"comma-separated, in order, of {', '.join(ALL_FAULTS + OTHER_FAULTS)}")
    parser.add_argument("--keep", type=Path, help="a directory for the run's files, kept afterwards (the processes' logs "
                                                  "under home/logs); a temporary one otherwise")
    args = parser.parse_args()
    chosen = [f for f in args.faults.split(",") if f]
    if unknown := set(chosen) - set(ALL_FAULTS + OTHER_FAULTS):
        parser.error(f"unknown faults: {sorted(unknown)}")
    with tempfile.TemporaryDirectory() as tmp:
        root = args.keep or Path(tmp)
        root.mkdir(parents=True, exist_ok=True)
        result = asyncio.run(Bench(get_settings(), root, args.rate, min(args.outage_s, args.seconds / 3)).run(args.seconds, chosen))
    print(orjson.dumps(result).decode())
