"""Benchmark: points per second the recorder's reading writer puts into the real InfluxDB.

Produces ``ReadingBatch`` records to a fresh Kafka topic, then times the reading writer
(``recorder.topic_writer.TopicWriter`` with ``ReadingLines``: Kafka → line protocol → InfluxDB in
batches, committing after each write) and, in the same run, a bare line-protocol HTTP POST of the
same points to ``/write`` (the ceiling), alternating for ``--rounds`` rounds, each on fresh scratch
databases; the best round of each side counts. Databases and topic are deleted at the end. Last stdout line: JSON with ``points_per_s`` and ``ceiling_points_per_s``.

    .venv/bin/python bench/influx_writer.py --seconds 10
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
import yaml
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.structs import ConsumerRecord

from hazmon import wire
from hazmon.kafka_topics import ensure_topics
from hazmon.topics import PlatformTopics
from hazmon.registry import load_registry
from hazmon.settings import Settings, get_settings

from recorder.influx import InfluxWriter
from recorder.topic_writer import ReadingLines, TopicWriter

ENTERPRISE = "BENCH0000000000001"
POINTS = 2000
PER_RECORD = 500
T0 = 1_700_000_000_000


def bench_registry(directory: Path) -> None:
    doc = {"enterprise": {"id": ENTERPRISE, "name": "bench", "lat": 29.0, "lon": 109.8},
           "sites": [{"id": "S1", "name": "bench site", "kind": "major_hazard"}],
           "points": [{"id": f"P{i:05d}", "site": "S1", "device": f"D{i % 20:02d}", "type": "temperature",
                       "range": [-20, 80], "high": 45, "high_high": 55, "period_s": 1} for i in range(POINTS)]}
    (directory / f"{ENTERPRISE}.yaml").write_text(yaml.safe_dump(doc))


def batches(total: int) -> list[wire.ReadingBatch]:
    records = []
    for start in range(0, total, PER_RECORD):
        idx = range(start, min(start + PER_RECORD, total))
        records.append(wire.ReadingBatch(
            v=1, enterprise=ENTERPRISE, device="D00", recv_ms=T0, points=[f"P{i % POINTS:05d}" for i in idx],
            ts=[T0 + (i // POINTS) * 1000 for i in idx], values=[20.0 + (i % 97) * 0.1 for i in idx],
            q=[0] * len(idx), ts_src=[0] * len(idx)))
    return records


async def produce(bootstrap: str, topic: str, records: list[wire.ReadingBatch]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_request_size=4 * 1024 * 1024)
    await producer.start()
    try:
        for record in records:
            await producer.send(topic, wire.encode(record), key=ENTERPRISE.encode())
        await producer.flush()
    finally:
        await producer.stop()


async def delete_topic(bootstrap: str, topic: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        await admin.delete_topics([topic])
    finally:
        await admin.close()


async def influx_query(settings: Settings, q: str) -> dict:
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session, \
            session.post(f"{settings.influx_url}/query", data={"q": q}) as r:
        return await r.json()


async def run_writer(settings: Settings, topic: str, database: str, lines: ReadingLines, total: int,
                     seconds: float) -> tuple[int, float]:
    influx = InfluxWriter(settings, database)
    await influx.ensure_database()
    writer = TopicWriter(settings.kafka_bootstrap, topic, f"bench-{uuid.uuid4().hex[:8]}", influx, lines,
                         max_records=50)
    task = asyncio.create_task(writer.run())
    while writer.points_written == 0 and not task.done():   # joining the group is not part of the rate
        await asyncio.sleep(0.001)
    start, first = time.perf_counter(), writer.points_written
    while writer.points_written < total and time.perf_counter() - start < seconds and not task.done():
        await asyncio.sleep(0.001)
    elapsed = time.perf_counter() - start
    task.cancel()
    await asyncio.gather(task, return_exceptions=True)
    await influx.close()
    return writer.points_written - first, elapsed


async def run_ceiling(settings: Settings, database: str, lines: list[str], batch: int, seconds: float) -> tuple[int, float]:
    """Bare POSTs of the same lines; like the writer's rate, it starts after the first batch."""
    await influx_query(settings, f'CREATE DATABASE "{database}"')
    url = f"{settings.influx_url}/write"
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session:
        async with session.post(url, params={"db": database, "precision": "ms"}, data="\n".join(lines[:batch])) as r:
            r.raise_for_status()
        written = 0
        start = time.perf_counter()
        for offset in range(batch, len(lines), batch):
            chunk = lines[offset:offset + batch]
            async with session.post(url, params={"db": database, "precision": "ms"}, data="\n".join(chunk)) as r:
                r.raise_for_status()
            written += len(chunk)
            if time.perf_counter() - start >= seconds:
                break
        return written, time.perf_counter() - start


async def bare_lines(bootstrap: str, topic: str, lines: ReadingLines, total: int) -> list[str]:
    """The same points as line protocol, built once outside the timing, for the ceiling."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=None, auto_offset_reset="earliest")
    await consumer.start()
    records: list[ConsumerRecord] = []
    try:
        while sum(len(wire.decode(r.value)["points"]) for r in records) < total:
            batch = await consumer.getmany(timeout_ms=1000)
            records += [r for part in batch.values() for r in part]
    finally:
        await consumer.stop()
    return lines(records)


async def main(seconds: float, total: int, rounds: int) -> dict:
    """Alternate ceiling and writer ``rounds`` times on fresh databases; the best round of each counts.

    The machine is shared: alternating and taking each side's best round compares the two under
    the same conditions rather than one lucky and one unlucky moment.
    """
    settings = get_settings()
    suffix = uuid.uuid4().hex[:8]
    topic = PlatformTopics.with_suffix(f".bench-{suffix}").readings
    phase_s = seconds / (2 * rounds)
    with tempfile.TemporaryDirectory() as registry_dir:
        bench_registry(Path(registry_dir))
        registry = load_registry(Path(registry_dir))
    await ensure_topics(settings.model_copy(update={"kafka_partitions": 1}), [topic])
    await produce(settings.kafka_bootstrap, topic, batches(total))
    databases: list[str] = []
    writer_rates: list[float] = []
    ceiling_rates: list[float] = []
    try:
        lines = await bare_lines(settings.kafka_bootstrap, topic, ReadingLines(registry), total)
        for round_no in range(rounds):
            ceiling_db, writer_db = f"bench_ceiling_{suffix}_{round_no}", f"bench_writer_{suffix}_{round_no}"
            databases += [ceiling_db, writer_db]
            points, elapsed = await run_ceiling(settings, ceiling_db, lines, settings.alerting_influx_batch, phase_s)
            ceiling_rates.append(points / elapsed)
            points, elapsed = await run_writer(settings, topic, writer_db, ReadingLines(registry), total, phase_s)
            writer_rates.append(points / elapsed)
    finally:
        for database in databases:
            await influx_query(settings, f'DROP DATABASE "{database}"')
        await delete_topic(settings.kafka_bootstrap, topic)
    points_per_s, ceiling_per_s = max(writer_rates), max(ceiling_rates)
    return {"points_per_s": round(points_per_s), "ceiling_points_per_s": round(ceiling_per_s),
            "ratio": round(points_per_s / ceiling_per_s, 3), "rounds": rounds,
            "points_per_s_rounds": [round(r) for r in writer_rates],
            "ceiling_points_per_s_rounds": [round(r) for r in ceiling_rates],
            "batch": settings.alerting_influx_batch, "series": POINTS}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=10.0, help="upper bound of the whole measured time")
    parser.add_argument("--rounds", type=int, default=3, help="alternating rounds of ceiling and writer")
    parser.add_argument("--points", type=int, default=None, help="points in the topic (default 100 000 per second)")
    args = parser.parse_args()
    result = asyncio.run(main(args.seconds, args.points or int(100_000 * args.seconds), args.rounds))
    print(orjson.dumps(result).decode())
