"""Benchmark: the recorder's CPU per reading, the recorder alone on the local stack (issue #18).

Starts ``hazmon recorder run`` as a child on topics, consumer groups and an InfluxDB database of its own,
and offers it ``ReadingBatch`` records as ingest makes them (the 40 devices ``bench/pipeline.py``'s load
drives, ``--per-record`` readings of one device a record, keyed by enterprise, values from the load's
baselines), in three phases, each measured from /proc (utime + stime of the recorder's process):

- ``idle``: ``--idle-seconds`` with nothing to read (the recorder's polls and its own metrics);
- ``paced``: ``--rate`` readings/s for ``--seconds``, until the recorder has committed the whole topic
  (the pipeline's situation: small fetches, small writes);
- ``backlog``: ``--backlog`` readings produced as fast as the bench can, consumed as fast as the recorder can
  (readings/s, and the CPU of large batches).

After each phase InfluxDB must hold exactly the readings produced so far (each reading is its own point):
``lost`` and ``extra`` count the difference. InfluxDB's own CPU over each phase is reported too (shared
with whatever else runs on the machine). The floor measured in the same run, ``bare``: a child that fetches
the same records with aiokafka (2 000 a ``getmany``) and POSTs, for each fetch, the line protocol of its
readings built before the timing, in bodies of ``alerting_influx_batch`` lines: the transport alone, its own
CPU by ``getrusage``. ``--code DIR`` runs the recorder from another checkout (a git worktree of an earlier
commit: before and after in one bench). Last stdout line: one JSON object.

    .venv/bin/python bench/recorder.py --rate 20000 --seconds 30 --backlog 1000000
    .venv/bin/python bench/recorder.py --code /tmp/rec-before     # the recorder of another commit
"""

from __future__ import annotations

import argparse
import asyncio
import os
import resource
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import CONNECTIONS, GENERATED_ENTERPRISES, GroupLag, cpu_seconds, server_pids  # noqa: E402
from device_sim.county import county_with_sample  # noqa: E402
from device_sim.load import Telemetry, load_devices  # noqa: E402
from hazmon import series, wire  # noqa: E402
from hazmon.kafka_topics import ensure_topics  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.settings import PACKAGE_DIR, Settings, get_settings  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from testbed.kafka_admin import delete_topics  # noqa: E402

PROJECT_ROOT = PACKAGE_DIR.parent
READINGS_PER_RECORD = 10
TICK_S = 0.025                   # ingest's shortest flush interval (a quiet platform's): the paced producer writes every tick
RUNNING = "recorder running"     # the recorder's log line once its writers are started
JOIN_S = 5.0                     # after RUNNING: the four consumers join their groups
FETCH_RECORDS = 2000             # the recorder's TopicWriter max_records, for the floor's fetches


class Readings:
    """ReadingBatch records of the load's devices, each device's points in turn, every reading its own point
    in InfluxDB (a device's timestamps rise by at least 1 ms a record)."""

    def __init__(self, county_dir: Path, per_record: int) -> None:
        chosen = load_devices(county_dir, CONNECTIONS)
        self.devices = [(e, d, Telemetry(entries, per_record, "bench")) for e, d, entries in chosen]
        self.per_record = per_record
        self.last_ts = [0] * len(self.devices)
        self.counter = [0] * len(self.devices)
        self.produced = 0

    def record(self, index: int, now_ms: int) -> tuple[bytes, bytes]:
        """The next record of device ``index``: (key, value)."""
        enterprise, device, telemetry = self.devices[index]
        n = len(telemetry.points)
        start, ts = self.counter[index], max(now_ms, self.last_ts[index] + 1)
        ks = range(start, start + self.per_record)
        stamps = [ts + (k - start) // n for k in ks]
        self.counter[index] += self.per_record
        self.last_ts[index] = stamps[-1]
        self.produced += self.per_record
        batch = wire.ReadingBatch(v=wire.WIRE_VERSION, enterprise=enterprise, device=device, recv_ms=now_ms,
                                  points=[telemetry.points[k % n] for k in ks], ts=stamps,
                                  values=[telemetry.values[k % n][(k // n) % len(telemetry.values[k % n])] for k in ks],
                                  q=[0] * self.per_record, ts_src=[0] * self.per_record)
        return enterprise.encode(), wire.encode(batch)


async def produce_paced(producer: AIOKafkaProducer, topic: str, readings: Readings, rate: float, seconds: float) -> None:
    """``rate`` readings/s for ``seconds``: every TICK_S the records due, the devices in turn."""
    started, device = time.monotonic(), 0
    while (elapsed := time.monotonic() - started) < seconds:
        due = int(rate * elapsed) - readings.produced
        now_ms = int(time.time() * 1000)
        for _ in range(max(0, due) // readings.per_record):
            key, value = readings.record(device, now_ms)
            await producer.send(topic, value, key=key)
            device = (device + 1) % len(readings.devices)
        await asyncio.sleep(TICK_S)
    await producer.flush()


async def produce_all(producer: AIOKafkaProducer, topic: str, readings: Readings, total: int) -> None:
    device, target = 0, readings.produced + total
    while readings.produced < target:
        key, value = readings.record(device, int(time.time() * 1000))
        await producer.send(topic, value, key=key)
        device = (device + 1) % len(readings.devices)
    await producer.flush()


async def influx_count(settings: Settings, database: str) -> int:
    query = f'SELECT count("{series.VALUE}") FROM "{series.RAW_POLICY}"."{series.READING}"'
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session, \
            session.post(f"{settings.influx_url}/query", data={"q": query, "db": database}) as response:
        result = (await response.json())["results"][0]
    return int(result["series"][0]["values"][0][1]) if "series" in result else 0


async def influx_command(settings: Settings, query: str) -> None:
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session, \
            session.post(f"{settings.influx_url}/query", data={"q": query}) as response:
        response.raise_for_status()


class Phase:
    """CPU-seconds of the recorder and of InfluxDB, and wall time, from its start to :meth:`end`."""

    def __init__(self, recorder_pid: int, influx_pid: int | None) -> None:
        self.pids = {"recorder": recorder_pid, **({"influxdb": influx_pid} if influx_pid else {})}
        self.load_average = round(os.getloadavg()[0], 2)
        self.cpu = {name: cpu_seconds(pid) for name, pid in self.pids.items()}
        self.started = time.monotonic()

    def end(self, readings: int) -> dict:
        wall = time.monotonic() - self.started
        used = {name: cpu_seconds(pid) - self.cpu[name] for name, pid in self.pids.items()}
        figures: dict = {"load_average_at_start": self.load_average, "seconds": round(wall, 2),
                         "recorder_cpu_percent": round(100 * used["recorder"] / wall, 1)}
        if readings:
            figures["readings"] = readings
            figures["readings_per_s"] = round(readings / wall)
            figures |= {f"{name}_cpu_s_per_million_readings": round(cpu * 1e6 / readings, 2) for name, cpu in used.items()}
        return figures


async def wait_committed(lag: GroupLag, group: str, deadline_s: float) -> None:
    give_up = time.monotonic() + deadline_s
    while await lag.lag(group):
        if time.monotonic() > give_up:
            raise RuntimeError(f"the recorder did not commit the readings topic within {deadline_s:.0f} s")
        await asyncio.sleep(0.05)


def start_recorder(code: Path, env: dict[str, str], log_file: Path) -> subprocess.Popen:
    """``hazmon recorder run`` of the checkout ``code`` (its modules ahead of the installed ones)."""
    with log_file.open("ab") as handle:
        return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "recorder", "run"], cwd=code,
                                stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True,
                                env={**os.environ, **env, "PYTHONPATH": str(code), "PYTHONUNBUFFERED": "1"})


def log_text(log_file: Path) -> str:
    return log_file.read_text(errors="replace")


async def wait_running(process: subprocess.Popen, log_file: Path, timeout_s: float = 60.0) -> None:
    give_up = time.monotonic() + timeout_s
    while RUNNING not in log_text(log_file):
        if process.poll() is not None or time.monotonic() > give_up:
            raise RuntimeError(f"the recorder did not start:\n{log_text(log_file)[-2000:]}")
        await asyncio.sleep(0.2)
    await asyncio.sleep(JOIN_S)


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGTERM)
        try:
            process.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


async def bare(topic: str, database: str) -> dict:
    """The floor (run as a child, ``--bare``): fetch the topic with aiokafka and POST the line protocol of each
    fetch's readings, built before the timing; its own CPU by getrusage."""
    settings = get_settings()
    registry = load_registry(settings.registry_dir)
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                                auto_offset_reset="earliest",
                                max_partition_fetch_bytes=8 * 1024 * 1024)
    await consumer.start()
    bodies: dict[tuple[int, int], tuple[bytes, int]] = {}   # (partition, offset) → the record's lines, their count
    try:
        partitions = [TopicPartition(topic, p) for p in range(settings.kafka_partitions)]   # as ensure_topics made them
        consumer.assign(partitions)
        ends = await consumer.end_offsets(partitions)
        while not await _reached(consumer, ends):
            for records in (await consumer.getmany(timeout_ms=1000, max_records=FETCH_RECORDS)).values():
                for record in records:
                    batch = orjson.loads(record.value)
                    lines = []
                    for point, ts, value in zip(batch["points"], batch["ts"], batch["values"]):
                        entry = registry.point(batch["enterprise"], point)
                        assert entry is not None
                        prefix = series.reading_prefix(batch["enterprise"], entry.site.id, point, entry.point.type.value)
                        lines.append(f"{prefix}{float(value)!r} {ts}\n")
                    bodies[(record.partition, record.offset)] = ("".join(lines).encode(), len(lines))
        await consumer.seek_to_beginning()
        await influx_command(settings, f'CREATE DATABASE "{database}"')
        url = f"{settings.influx_url}/write"
        params = {"db": database, "precision": "ms"}
        before, started, readings = resource.getrusage(resource.RUSAGE_SELF), time.monotonic(), 0
        async with aiohttp.ClientSession(headers=settings.influx_headers) as session:
            while not await _reached(consumer, ends):
                fetched = await consumer.getmany(timeout_ms=1000, max_records=FETCH_RECORDS)
                chunk: list[bytes] = []
                lines = 0
                for record in [r for records in fetched.values() for r in records]:
                    body, count = bodies[(record.partition, record.offset)]
                    chunk.append(body)
                    lines += count
                    if lines >= settings.alerting_influx_batch:
                        await post(session, url, params, chunk)
                        readings, chunk, lines = readings + lines, [], 0
                if chunk:
                    await post(session, url, params, chunk)
                    readings += lines
        wall, after = time.monotonic() - started, resource.getrusage(resource.RUSAGE_SELF)
    finally:
        await consumer.stop()
    cpu = after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime
    return {"readings": readings, "readings_per_s": round(readings / wall), "cpu_s_per_million_readings": round(cpu * 1e6 / readings, 2)}


async def _reached(consumer: AIOKafkaConsumer, ends: dict) -> bool:
    return all([await consumer.position(tp) >= end for tp, end in ends.items()])


async def post(session: aiohttp.ClientSession, url: str, params: dict[str, str], body: list[bytes]) -> None:
    async with session.post(url, params=params, data=b"".join(body)) as response:
        response.raise_for_status()


async def run_bare(code_env: dict[str, str], topic: str, database: str) -> dict:
    process = await asyncio.create_subprocess_exec(sys.executable, __file__, "--bare", topic, database,
                                                   stdout=asyncio.subprocess.PIPE, env={**os.environ, **code_env})
    out, _ = await process.communicate()
    if process.returncode:
        raise RuntimeError(f"the floor's child failed ({process.returncode})")
    return orjson.loads(out.splitlines()[-1])


async def main(args: argparse.Namespace) -> dict:
    settings = get_settings()
    unique = uuid.uuid4().hex[:10]
    with tempfile.TemporaryDirectory(prefix="bench-recorder-") as tmp:
        root = Path(tmp)
        county_dir = county_with_sample(root, GENERATED_ENTERPRISES, 5, PACKAGE_DIR / "sample_registry")
        readings = Readings(county_dir, args.per_record)
        names = PlatformTopics.with_suffix(f".bench-rec-{unique}")
        database, group = f"bench_rec_{unique}", f"bench-rec-{unique}"
        env = {"HAZMON_HOME": str(root / "home"), "HAZMON_SECRETS_FILE": str(settings.secrets_path),
               "HAZMON_CACHE_DIR": str(settings.cache_path), "HAZMON_REGISTRY_DIR": str(county_dir),
               "HAZMON_INFLUX_DB": database, "HAZMON_KAFKA_TOPIC_SUFFIX": names.suffix, "HAZMON_ALERTING_GROUP": group}
        await ensure_topics(settings, names.all())
        log_file = root / "recorder.log"
        recorder = start_recorder(args.code.resolve(), env, log_file)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=5)
        await producer.start()
        result: dict = {"code": str(args.code.resolve()), "rate": args.rate, "per_record": args.per_record,
                        "batch": settings.alerting_influx_batch}
        try:
            await wait_running(recorder, log_file)
            influx_pid = server_pids().get("influxdb")
            async with GroupLag(settings, names.readings) as lag:
                phase = Phase(recorder.pid, influx_pid)
                await asyncio.sleep(args.idle_seconds)
                result["idle"] = phase.end(0)
                for name, produce in (("paced", produce_paced(producer, names.readings, readings, args.rate, args.seconds)),
                                      ("backlog", produce_all(producer, names.readings, readings, args.backlog))):
                    before = readings.produced
                    phase = Phase(recorder.pid, influx_pid)
                    await produce
                    await wait_committed(lag, f"{group}-readings", deadline_s=300)
                    result[name] = phase.end(readings.produced - before)
                    in_influx = await influx_count(settings, database)
                    result[name] |= {"lost": max(0, readings.produced - in_influx),
                                     "extra": max(0, in_influx - readings.produced)}
                    print(f"{name}: {result[name]}", file=sys.stderr)
            if recorder.poll() is not None:
                raise RuntimeError(f"the recorder exited:\n{log_text(log_file)[-2000:]}")
            result["bare"] = await run_bare(env, names.readings, f"{database}_bare")
        finally:
            await producer.stop()
            stop(recorder)
            for name in (database, f"{database}_bare"):
                await influx_command(settings, f'DROP DATABASE "{name}"')
            await delete_topics(settings.kafka_bootstrap, lambda topic: topic.endswith(names.suffix))
    return result


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rate", type=float, default=20_000.0, help="readings/s of the paced phase")
    parser.add_argument("--seconds", type=float, default=30.0, help="length of the paced phase")
    parser.add_argument("--backlog", type=int, default=1_000_000, help="readings of the backlog phase")
    parser.add_argument("--idle-seconds", type=float, default=10.0, help="length of the idle phase")
    parser.add_argument("--per-record", type=int, default=READINGS_PER_RECORD, help="readings per ReadingBatch record")
    parser.add_argument("--code", type=Path, default=PROJECT_ROOT, help="the checkout whose recorder runs")
    parser.add_argument("--bare", nargs=2, metavar=("TOPIC", "DATABASE"), help=argparse.SUPPRESS)   # the floor's child
    args = parser.parse_args()
    outcome = asyncio.run(bare(*args.bare) if args.bare else main(args))
    print(orjson.dumps(outcome).decode())
