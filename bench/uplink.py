"""The uplink bench of issue #19: alarm changes from the county's rules topic through alerting, Kafka and
the uplink to the upper platform's broker, live and after an outage of the upper broker.

Two platforms in this process: the county (the shared Kafka on the bench's own topics and InfluxDB
database, an alerting service, the uplink) and the prefecture (a private upper broker, as tests/uplink
run it, and ``prefecture.service.Prefecture``: its ingest, record and its own InfluxDB database); the
databases are dropped afterwards. Phase 1 (``--live-s``): alarms confirmed at ``--rate`` per second; each
one's latency is from its transition's production (wall clock) to its first version's commit in the
prefecture's record (``received_at``). Phase 2: the prefecture's broker stopped for ``--outage-s`` while
alarms keep coming at the same rate, then started: ``catchup_per_s`` is the backlog over the time from
the restart until the record had all of it. ``lost``: alarms produced and never in the prefecture's
record; ``repeats``: versions the record received again (sent again after the outage, not applied
twice). The last stdout line is one JSON object: ``forwarded_per_s``, ``catchup_per_s``,
``p99_county_to_prefecture_s``, ``lost``, and ``breakdown_s``: where the live latency goes, per stage
(``Stages``): its p50, its p99, and its mean over the alarms of the slowest 1 % end to end. Goal: 0 lost,
p99 < 2 s, catch-up ≥ 10× the live rate.

``--backlog N`` measures the uplink alone instead: N alarm changes (1 000 alarms, versions in turn) put
on the bench's alarm-changes topic first, then the uplink started; the JSON line has ``catchup_per_s``
from its start (connection and consumer group join included) until the upper platform had them all.

``--prefecture-backlog N`` measures the prefecture's ingest alone: N alarm versions published by a county
into the prefecture's broker session while it was stopped, then the prefecture started; ``catchup_per_s``
from its start until its record had them all.

Usage: .venv/bin/python bench/uplink.py [--rate 50] [--live-s 30] [--outage-s 600] | --backlog 20000
       | --prefecture-backlog 20000
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import orjson
from aiokafka import AIOKafkaProducer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from alerting.service import AlertingService  # noqa: E402
from hazmon import wire  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from hazmon.exchange import up_topic  # noqa: E402
from hazmon.kafka_topics import ensure_topics  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.settings import get_settings  # noqa: E402
from testbed.alerting import transition  # noqa: E402
from testbed.kafka_admin import delete_topics, unique_name  # noqa: E402
from prefecture.record import Recorded, UpBatch  # noqa: E402
from prefecture.service import Prefecture  # noqa: E402
from testbed.uplink import (COUNTY, UpperBroker, alarm_change, collecting, drop_database, prefecture_settings,  # noqa: E402
                            running_prefecture, running_uplink, uplink_settings)
from uplink.link import UpperLink  # noqa: E402
from uplink.service import Uplink  # noqa: E402

POINTS = ("TK01_LT", "TK01_TT", "TK01_PT", "WK01_WL", "BLD1_TANK")


def now_ms() -> int:
    return time.time_ns() // 1_000_000


STAGES = ("alerting", "to_uplink", "upper_puback", "to_prefecture", "record_commit")


class Stages:
    """(live phase) When each alarm's first version passed each step on its way, wall clock (s): its transition
    produced (the bench), alerting's change produced (the alarm-changes record's CreateTime), the uplink's read
    of it, the upper broker's PUBACK of it, the prefecture's ingest taking its batch, and the record's
    commit of that batch. Timed by wrapping the steps of the uplink and the prefecture running in this process
    (``time_uplink``, ``time_prefecture``)."""

    def __init__(self) -> None:
        self.emitted: dict[str, float] = {}
        self.read: dict[str, float] = {}
        self.puback: dict[str, float] = {}
        self.ingested: dict[str, float] = {}
        self.committed: dict[str, float] = {}

    def breakdown(self, produced: dict[str, float]) -> dict[str, dict[str, float]]:
        """Per stage (``STAGES``, from one step to the next), its p50 and p99 over the alarms timed at every
        step, and its mean over the slowest 1 % of them end to end (produced → committed)."""
        steps = (produced, self.emitted, self.read, self.puback, self.ingested, self.committed)
        alarms = [a for a in produced if all(a in step for step in steps)]
        if not alarms:
            return {}
        times = np.array([[step[a] for step in steps] for a in alarms])
        spans = np.diff(times, axis=1)
        slowest = np.argsort(times[:, -1] - times[:, 0])[-max(1, len(alarms) // 100):]
        figures = {name: {"p50": float(np.percentile(spans[:, n], 50)), "p99": float(np.percentile(spans[:, n], 99)),
                          "slowest_1pct_mean": float(spans[slowest, n].mean())} for n, name in enumerate(STAGES)}
        total = times[:, -1] - times[:, 0]
        figures["total"] = {"p50": float(np.percentile(total, 50)), "p99": float(np.percentile(total, 99)),
                            "slowest_1pct_mean": float(total[slowest].mean())}
        return {name: {k: round(v, 3) for k, v in f.items()} for name, f in figures.items()}


def time_uplink(uplink: Uplink, stages: Stages) -> None:
    """Note, for the alarm changes' forwarder, each version 1's CreateTime and read time (its bodies are made as
    a round is read), and the PUBACK of each version 1 the uplink publishes (its future's result)."""
    bodies, send = uplink.forwarder._bodies, UpperLink.send

    def timed_bodies(records: list) -> list[bytes]:
        now = time.time()
        for record in records:
            change = wire.decode(record.value)
            if change["version"] == 1:
                stages.emitted.setdefault(change["alarm"]["id"], record.timestamp / 1000)
                stages.read.setdefault(change["alarm"]["id"], now)
        return bodies(records)

    def timed_send(link: UpperLink, topic: str, payload: bytes) -> asyncio.Future[int]:
        waiter = send(link, topic, payload)
        if topic.endswith("/alarm") and (body := orjson.loads(payload))["version"] == 1:
            waiter.add_done_callback(lambda _: stages.puback.setdefault(body["id"], time.time()))
        return waiter

    uplink.forwarder._bodies = timed_bodies
    UpperLink.send = timed_send  # type: ignore[method-assign, assignment]


def time_prefecture(prefecture: Prefecture, stages: Stages) -> None:
    """Note when the ingest took each version 1 in a batch, and when the record committed that batch."""
    apply, record = prefecture.ingest._apply, prefecture.record.record

    async def timed_apply(batch: list) -> list[str]:
        now = time.time()
        for message in batch:
            if message.topic.value.endswith("/alarm"):
                body = orjson.loads(message.payload)
                if body["version"] == 1:
                    stages.ingested.setdefault(body["id"], now)
        return await apply(batch)

    async def timed_record(batch: UpBatch, received_at: int) -> Recorded:
        recorded = await record(batch, received_at)
        now = time.time()
        for _, alarm in batch.alarms:
            if alarm["version"] == 1:
                stages.committed.setdefault(alarm["id"], now)
        return recorded

    prefecture.ingest._apply = timed_apply  # type: ignore[method-assign]
    prefecture.record.record = timed_record  # type: ignore[method-assign]


def private_home() -> Path:
    home = Path(tempfile.mkdtemp(prefix="hazmon-bench-uplink-"))
    home.chmod(0o755)   # the upper broker drops to user mosquitto, which must reach its files
    return home


class Arrivals:
    """(``--backlog``) When each change first reached the upper broker's subscriber; ``wait`` until every one of ``sent`` did."""

    def __init__(self, sent: dict[str, float]) -> None:
        self.sent = sent
        self.first_seen: dict[str, float] = {}
        self._complete = asyncio.Event()

    def seen(self, message: dict) -> None:
        self.first_seen.setdefault(message["id"], time.monotonic())
        if len(self.first_seen) >= len(self.sent) and self.sent.keys() <= self.first_seen.keys():
            self._complete.set()

    async def wait(self, timeout_s: float) -> None:
        """Until every alarm sent so far arrived, or ``timeout_s`` (then some are lost)."""
        self._complete.clear()
        if not self.sent.keys() <= self.first_seen.keys():
            try:
                await asyncio.wait_for(self._complete.wait(), timeout_s)
            except TimeoutError:
                pass


async def produce_alarms(producer: AIOKafkaProducer, topic: str, prefix: str, rate: float, seconds: float,
                         sent: dict[str, float]) -> None:
    """Confirmed alarms at ``rate`` per second for ``seconds``; ``sent`` gets each one's production time (wall clock)."""
    start = time.monotonic()
    n = 0
    while (elapsed := time.monotonic() - start) < seconds:
        due = int(elapsed * rate) + 1
        while n < due:
            alarm_id = f"{prefix}{n:06d}"
            record = transition(alarm_id, "confirmed", POINTS[n % len(POINTS)], at=now_ms())
            await producer.send(topic, wire.encode(record), key=record["enterprise"].encode())
            sent[alarm_id] = time.time()
            n += 1
        await asyncio.sleep(0.01)
    await producer.flush()


async def record_arrivals(prefecture: Prefecture, alarms: set[str], timeout_s: float) -> dict[str, float]:
    """When each alarm's first version reached the prefecture's record (wall clock, s), once all of ``alarms`` did
    or after ``timeout_s`` (then some are lost)."""
    deadline = time.monotonic() + timeout_s
    while True:
        seen = {alarm: ms / 1000 for alarm, ms in (await prefecture.record.received_at(COUNTY, 1)).items()}
        if alarms <= seen.keys() or time.monotonic() > deadline:
            return seen
        await asyncio.sleep(0.5)


async def bench(rate: float, live_s: float, outage_s: float) -> dict:
    base = get_settings()
    unique = unique_name()
    names = PlatformTopics.with_suffix(f".bench-uplink-{unique}")
    home = private_home()
    settings = base.model_copy(update={"home": home, "influx_db": f"bench_uplink_{unique}", "kafka_topic_suffix": names.suffix,
                                       "alerting_group": f"bench-uplink-{unique}", "alerting_influx_flush_s": 0.2})
    upper = UpperBroker(home / "upper")
    upper.start()
    service = AlertingService(settings, load_registry(settings.registry_dir))
    county = uplink_settings(settings, upper, names.suffix, f"bench-uplink-{unique}")
    upper_settings = prefecture_settings(base, upper, home / "prefecture", f"bench_prefecture_{unique}")
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all")
    sent: dict[str, float] = {}   # alarm → when its transition was produced (wall clock, s)
    stages = Stages()
    try:
        await service.start()
        await service.caught_up()
        await producer.start()
        async with running_prefecture(upper_settings) as prefecture:   # subscribed before the county sends
            time_prefecture(prefecture, stages)
            async with running_uplink(county) as uplink:
                time_uplink(uplink, stages)
                await asyncio.sleep(2.0)   # the uplink connected
                live_start = time.time()
                await produce_alarms(producer, names.transitions, "live", rate, live_s, sent)
                seen = await record_arrivals(prefecture, set(sent), 60)
                live = [seen[a] - sent[a] for a in sent if a in seen]
                breakdown = stages.breakdown({a: sent[a] for a in sent if a in seen})
                forwarded_per_s = len(live) / (max(seen.values()) - live_start)
                upper.stop()
                await produce_alarms(producer, names.transitions, "outage", rate, outage_s, sent)
                backlog = {a for a in sent if a.startswith("outage")}
                restarted = time.time()
                upper.start()
                seen = await record_arrivals(prefecture, set(sent), max(120.0, outage_s))
                catchup_per_s = len(backlog) / (max(seen[a] for a in backlog if a in seen) - restarted)
                await asyncio.sleep(1.0)
                seen = await record_arrivals(prefecture, set(sent), 0)
                repeats = prefecture.ingest.repeats
        lost = sum(1 for a in sent if a not in seen)
        return {"rate": rate, "live_s": live_s, "outage_s": outage_s, "alarms": len(sent),
                "forwarded_per_s": round(forwarded_per_s, 1), "catchup_per_s": round(catchup_per_s, 1),
                "p50_county_to_prefecture_s": round(float(np.percentile(live, 50)), 3),
                "p99_county_to_prefecture_s": round(float(np.percentile(live, 99)), 3), "breakdown_s": breakdown,
                "repeats": repeats, "lost": lost}
    finally:
        await producer.stop()
        await service.stop()
        upper.stop()
        await delete_topics(settings.kafka_bootstrap, lambda name: name.endswith(f".bench-uplink-{unique}"))
        await drop_database(settings, settings.influx_db)
        shutil.rmtree(home, ignore_errors=True)


async def bench_backlog(records: int) -> dict:
    """The uplink alone, against ``records`` alarm changes waiting in Kafka."""
    settings = get_settings()
    suffix = f".bench-uplink-{unique_name()}"
    topic = PlatformTopics.with_suffix(suffix).changes
    home = private_home()
    upper = UpperBroker(home)
    upper.start()
    try:
        await ensure_topics(settings, [topic])
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all",
                                    linger_ms=20)
        await producer.start()
        for n in range(records):
            alarm = f"a{n % 1000:04d}"
            await producer.send(topic, wire.encode(alarm_change(alarm, n // 1000 + 1)), key=alarm.encode())
        await producer.flush()
        await producer.stop()
        sent = {f"a{n % 1000:04d}-{n // 1000 + 1}": 0.0 for n in range(records)}   # alarm-version, as produced
        arrivals = Arrivals(sent)
        county = uplink_settings(settings, upper, suffix, f"bench-uplink{suffix}")
        async with collecting(upper) as collector:
            collector.on_message = lambda m: arrivals.seen({"id": f"{m['id']}-{m['version']}"})
            start = time.monotonic()
            async with running_uplink(county):
                await arrivals.wait(600)
            seconds = max(arrivals.first_seen.values(), default=start) - start
        lost = sum(1 for key in sent if key not in arrivals.first_seen)
        return {"backlog": records, "catchup_per_s": round(len(arrivals.first_seen) / seconds, 1) if seconds else None,
                "seconds": round(seconds, 2), "lost": lost}
    finally:
        upper.stop()
        await delete_topics(settings.kafka_bootstrap, lambda name: name.endswith(suffix))
        shutil.rmtree(home, ignore_errors=True)


async def bench_prefecture_backlog(messages: int) -> dict:
    """The prefecture's ingest alone: ``messages`` alarm versions (1 000 alarms) waiting in its broker session,
    published by a county while it was stopped, then the prefecture started; until its record had them all."""
    base = get_settings()
    home = private_home()
    upper = UpperBroker(home / "upper")
    upper.start()
    upper_settings = prefecture_settings(base, upper, home / "prefecture", f"bench_prefecture_{unique_name()}")
    try:
        async with running_prefecture(upper_settings):
            pass   # started and subscribed: what the county sends from now on waits in its session
        async with upper.county_client(COUNTY) as county:
            for n in range(messages):
                body = {"v": 1, "county": COUNTY, "id": f"a{n % 1000:04d}", "version": n // 1000 + 1, "change": "escalated",
                        "changed_at": n, "changed_by": None, "enterprise": "E1", "state": "active", "escalated_to": "enterprise"}
                await county.publish(up_topic(COUNTY, "alarm"), orjson.dumps(body), qos=1)
        async with running_prefecture(upper_settings) as prefecture:
            start = time.monotonic()
            while prefecture.ingest.versions < messages and time.monotonic() - start < 600:
                await asyncio.sleep(0.05)
            seconds = time.monotonic() - start
            recorded = prefecture.ingest.versions
        return {"prefecture_backlog": messages, "catchup_per_s": round(recorded / seconds, 1), "seconds": round(seconds, 2),
                "lost": messages - recorded}
    finally:
        upper.stop()
        shutil.rmtree(home, ignore_errors=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, default=50.0, help="alarms confirmed per second")
    parser.add_argument("--live-s", type=float, default=30.0)
    parser.add_argument("--outage-s", type=float, default=600.0, help="how long the upper broker is stopped")
    parser.add_argument("--backlog", type=int, default=0, help="instead: the uplink alone against this many changes in Kafka")
    parser.add_argument("--prefecture-backlog", type=int, default=0,
                        help="instead: the prefecture's ingest alone against this many versions in its broker session")
    args = parser.parse_args()
    if args.prefecture_backlog:
        result = asyncio.run(bench_prefecture_backlog(args.prefecture_backlog))
    elif args.backlog:
        result = asyncio.run(bench_backlog(args.backlog))
    else:
        result = asyncio.run(bench(args.rate, args.live_s, args.outage_s))
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    main()
