"""Benchmark: readings per second through the stream rules, on a generated county of ≥ 10 000 points.

Three figures from one run:
- ``inprocess_readings_per_s``: ``RuleEngine.process`` on decoded records, 200 records a call, one
  core, no I/O (``inprocess_readings_per_cpu_s``: the same readings per CPU-second of the process,
  which other work on the shared machine disturbs less; ``inprocess_floor_readings_per_s``: the
  same calls' readings only gathered into numpy arrays, no rules, the floor of any engine over
  numpy arrays; ``load_average_1m_at_start``: the machine's load when the run began);
- ``kafka_readings_per_s``: one real ``hazmon rules worker`` process (exactly-once) draining a
  pre-filled readings topic, measured from its committed offsets once it has joined
  (``kafka_readings_per_cpu_s``: the same readings per CPU-second of the worker process over the
  same span, from /proc; ``kafka_vs_inprocess_cpu``: its share of ``inprocess_readings_per_cpu_s``;
  ``kafka_vs_same_records_cpu``: its share of ``same_records_readings_per_cpu_s``, the engine in process
  on exactly the records the worker drains: the fair comparison, since the engine's cost per reading
  grows with its windows, and the in-process run goes through more rounds of the county than the
  worker's topic holds);
- ``ceiling_readings_per_s``: a bare aiokafka consumer reading the same topic from the start.

And, to show where the gap to the ceiling lies, ``decode_only_readings_per_s``: the same records
only decoded (``orjson.loads``), no Kafka and no rules: the most any worker that reads the
records' contents could reach here, whatever its rules cost.

Records are ``wire.ReadingBatch`` of one device, ``--steps-per-record`` reporting steps of all its
points each (ingest packs several MQTT messages of a device into one record). Values are
device_sim's undisturbed baselines, so the county is quiet, as it mostly is.

    .venv/bin/python bench/rules.py --seconds 30

``--py-spy FILE`` records the worker with py-spy (raw collapsed stacks, 100 samples/s) from its first
commit until it has drained the topic.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

sys.path[0] = str(Path(__file__).resolve().parents[1])

import numpy as np  # noqa: E402
import orjson  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402

from bench.pipeline import GroupLag  # noqa: E402

from device_sim.county import write_county  # noqa: E402
from device_sim.load import SAMPLES_PER_POINT, baseline  # noqa: E402
from hazmon.kafka_topics import ensure_topics  # noqa: E402
from hazmon.registry import Registry, load_registry  # noqa: E402
from hazmon.registry.models import PointType  # noqa: E402
from hazmon.settings import Settings, get_settings  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from hazmon.wire import ReadingBatch  # noqa: E402
from testbed.kafka_admin import delete_topics  # noqa: E402
from stream_rules.engine import RuleEngine  # noqa: E402

T0_MS = 1_764_000_000_000
STEP_MS = 10_000


def county(directory: Path, min_points: int) -> Registry:
    enterprises = 400
    while True:
        write_county(directory, enterprises, seed=5)
        registry = load_registry(directory)
        if sum(e.point.type is not PointType.FIRE_DETECTOR for e in registry) >= min_points:
            return registry
        enterprises = int(enterprises * 1.5)


def device_series(registry: Registry) -> list[tuple[str, str, list[str], np.ndarray]]:
    """(enterprise, device, points, values[sample, point]) of every reporting device."""
    devices: dict[tuple[str, str], list] = {}
    for entry in registry:
        if entry.point.type is not PointType.FIRE_DETECTOR:
            devices.setdefault((entry.enterprise, entry.point.device), []).append(entry)
    return [(ent, dev, [e.id for e in entries], np.stack([baseline(e, T0_MS / 1000) for e in entries], axis=1))
            for (ent, dev), entries in devices.items()]


def records(series: list, steps_per_record: int, rounds: int) -> list[ReadingBatch]:
    out: list[ReadingBatch] = []
    for r in range(rounds):
        for enterprise, device, points, values in series:
            steps = [r * steps_per_record + k for k in range(steps_per_record)]
            ts = [T0_MS + s * STEP_MS for s in steps for _ in points]
            vals = [float(v) for s in steps for v in values[s % SAMPLES_PER_POINT]]
            n = len(ts)
            out.append({"v": 1, "enterprise": enterprise, "device": device, "recv_ms": ts[-1],
                        "points": points * steps_per_record, "ts": ts, "values": vals, "q": [0] * n, "ts_src": [0] * n})
    return out


def in_process(registry: Registry, batch: list[ReadingBatch], seconds: float, per_call: int) -> tuple[float, float]:
    """(readings per second of wall time, readings per CPU-second of this process) through ``RuleEngine.process``."""
    engine = RuleEngine(registry, clock=lambda: 0)
    done = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    for i in range(0, len(batch), per_call):
        chunk = batch[i:i + per_call]
        engine.process(readings=chunk)
        done += sum(len(r["ts"]) for r in chunk)
        if time.perf_counter() - start >= seconds:
            break
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu_start)


def arrays_only(batch: list[ReadingBatch], seconds: float, per_call: int) -> tuple[float, float]:
    """The in-process floor, as ``in_process``: each call's readings only gathered into numpy arrays
    (times, values, quality), no rules: the least any engine over numpy arrays does with them."""
    done = 0
    start, cpu_start = time.perf_counter(), time.process_time()
    while time.perf_counter() - start < seconds:
        for i in range(0, len(batch), per_call):
            ts: list[float] = []
            values: list[float] = []
            quality: list[int] = []
            for record in batch[i:i + per_call]:
                ts += record["ts"]
                values += record["values"]
                quality += record["q"]
            np.array(ts, dtype=np.float64), np.array(values, dtype=np.float64), np.array(quality, dtype=np.int8)
            done += len(ts)
            if time.perf_counter() - start >= seconds:
                break
    return done / (time.perf_counter() - start), done / (time.process_time() - cpu_start)


def decode_only(encoded: list[tuple[bytes, bytes]], readings_per_record: float, seconds: float) -> float:
    done = 0
    start = time.perf_counter()
    while time.perf_counter() - start < seconds:
        for _, value in encoded:
            orjson.loads(value)
        done += len(encoded)
    return done * readings_per_record / (time.perf_counter() - start)


async def fill_topic(settings: Settings, names: PlatformTopics, encoded: list[tuple[bytes, bytes]]) -> None:
    await ensure_topics(settings, [names.readings, names.events, names.device_status, names.transitions])
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=20, max_batch_size=1 << 20,
                                max_request_size=8 << 20, acks="all")
    await producer.start()
    try:
        futures = [await producer.send(names.readings, value, key=key) for key, value in encoded]
        await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def ceiling(settings: Settings, topic: str, total_records: int, readings_per_record: float) -> float:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False, max_partition_fetch_bytes=8 << 20)
    await consumer.start()
    try:
        seen, counted, start = 0, 0, 0.0
        while seen < total_records:
            batches = await consumer.getmany(timeout_ms=1000, max_records=2_000)
            got = sum(len(msgs) for msgs in batches.values())
            if got and not seen:
                start = time.perf_counter()     # as for the worker: from the first data, not from joining
            else:
                counted += got
            seen += got
        return counted * readings_per_record / (time.perf_counter() - start)
    finally:
        await consumer.stop()


def cpu_s(pid: int) -> float:
    """CPU-seconds (user + system) process ``pid`` has used so far, from /proc."""
    fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def through_worker(settings: Settings, names: PlatformTopics, registry_dir: Path, total_records: int,
                         readings_per_record: float, timeout_s: float, workdir: Path,
                         py_spy: Path | None) -> tuple[float, float]:
    """(readings/s, readings per CPU-second of the worker) of one worker draining the topic."""
    app_id = f"bench-rules-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HAZMON_RULES_APP_ID": app_id, "HAZMON_REGISTRY_DIR": str(registry_dir),
           "HAZMON_KAFKA_TOPIC_SUFFIX": names.suffix,
           "HAZMON_RULES_DATADIR": str(workdir / "faust"), "HAZMON_RULES_TICK_S": "3600"}
    log = (workdir / "worker.log").open("wb")
    # the Faust worker itself (no restarting parent): its CPU is the measured process's, and a crash ends the run
    worker = subprocess.Popen([sys.executable, "-m", "hzctl.cli", "rules", "worker", "--no-restart"], env=env,
                              stdout=log, stderr=subprocess.STDOUT, start_new_session=True)
    try:
        async with GroupLag(settings, names.readings) as lag:
            rates = await drained_rate(lag, app_id, worker, total_records, readings_per_record, timeout_s, py_spy)
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
    if rates is None:
        raise RuntimeError(f"the worker did not drain the topic; see {workdir / 'worker.log'}")
    return rates


async def drained_rate(lag: GroupLag, group: str, worker: subprocess.Popen, total_records: int,
                       readings_per_record: float, timeout_s: float,
                       py_spy: Path | None) -> tuple[float, float] | None:
    """(readings/s, readings per CPU-second of ``worker``) committed by ``group`` from its first commit until it
    has all ``total_records``; None if it never does."""
    first: tuple[float, float, int] | None = None
    spy: subprocess.Popen | None = None
    deadline = time.monotonic() + timeout_s
    try:
        while time.monotonic() < deadline and worker.poll() is None:
            done = sum((await lag.committed(group)).values())
            now, cpu = time.perf_counter(), cpu_s(worker.pid)
            if first is None and done > 0:
                first = (now, cpu, done)
                if py_spy is not None:
                    spy = subprocess.Popen([str(Path(sys.executable).parent / "py-spy"), "record", "--pid", str(worker.pid),
                                            "--rate", "100", "--format", "raw", "--nonblocking", "-o", str(py_spy)],
                                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if first is not None and done >= total_records:
                readings = (done - first[2]) * readings_per_record
                return readings / (now - first[0]), readings / (cpu - first[1])
            await asyncio.sleep(0.25)
        return None
    finally:
        if spy is not None:
            spy.send_signal(signal.SIGINT)   # py-spy writes its file when interrupted
            spy.wait(timeout=30)


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seconds", type=float, default=30, help="rough bound of the measuring time")
    parser.add_argument("--points", type=int, default=10_000, help="at least this many reporting points")
    parser.add_argument("--steps-per-record", type=int, default=10)
    parser.add_argument("--py-spy", type=Path, help="record the worker with py-spy into this file (raw stacks)")
    args = parser.parse_args()
    settings = get_settings()
    with tempfile.TemporaryDirectory(prefix="bench-rules-") as tmp:
        workdir = Path(tmp)
        registry = county(workdir / "registry", args.points)
        series = device_series(registry)
        points = sum(len(p) for _, _, p, _ in series)
        per_round = points * args.steps_per_record
        rounds = max(2, int(500_000 * args.seconds / 3 / per_round))
        batch = records(series, args.steps_per_record, rounds)
        # the bench's own records (millions of readings, kept for the whole run; a worker holds one batch)
        # are frozen out of the collector: they would otherwise dilute when it runs a full collection
        gc.freeze()
        load_average = os.getloadavg()[0]
        inprocess, inprocess_cpu = in_process(registry, batch, args.seconds / 3, per_call=200)
        floor, floor_cpu = arrays_only(batch, min(5.0, args.seconds / 3), per_call=200)

        kafka_rounds = max(2, int(150_000 * args.seconds / 3 / per_round))
        kafka_batch = batch[: kafka_rounds * len(series)]
        readings_per_record = sum(len(r["ts"]) for r in kafka_batch) / len(kafka_batch)
        _, same_records_cpu = in_process(registry, kafka_batch, float("inf"), per_call=200)
        unique = uuid.uuid4().hex[:8]
        names = PlatformTopics.with_suffix(f".bench-rules-{unique}")
        encoded = [(r["enterprise"].encode(), orjson.dumps(r)) for r in kafka_batch]
        decoding = decode_only(encoded, readings_per_record, min(5.0, args.seconds / 3))
        try:
            await fill_topic(settings, names, encoded)
            ceiling_rate = await ceiling(settings, names.readings, len(encoded), readings_per_record)
            kafka_rate, kafka_cpu = await through_worker(settings, names, workdir / "registry", len(encoded),
                                                         readings_per_record, timeout_s=60 + 4 * args.seconds,
                                                         workdir=workdir, py_spy=args.py_spy)
        finally:
            await delete_topics(settings.kafka_bootstrap, set(names.all()).__contains__)
    result = {"points": points, "devices": len(series), "enterprises": len(registry.enterprises),
              "readings_per_record": round(readings_per_record, 1), "kafka_records": len(encoded),
              "inprocess_readings_per_s": round(inprocess), "inprocess_readings_per_cpu_s": round(inprocess_cpu),
              "inprocess_floor_readings_per_s": round(floor), "inprocess_floor_readings_per_cpu_s": round(floor_cpu),
              "inprocess_vs_floor": round(inprocess / floor, 3), "load_average_1m_at_start": round(load_average, 2),
              "kafka_readings_per_s": round(kafka_rate), "kafka_vs_inprocess": round(kafka_rate / inprocess, 3),
              "kafka_readings_per_cpu_s": round(kafka_cpu), "kafka_vs_inprocess_cpu": round(kafka_cpu / inprocess_cpu, 3),
              "same_records_readings_per_cpu_s": round(same_records_cpu),
              "kafka_vs_same_records_cpu": round(kafka_cpu / same_records_cpu, 3),
              "ceiling_readings_per_s": round(ceiling_rate), "kafka_vs_ceiling": round(kafka_rate / ceiling_rate, 3),
              "decode_only_readings_per_s": round(decoding), "decode_only_vs_ceiling": round(decoding / ceiling_rate, 3)}
    print(orjson.dumps(result).decode())


if __name__ == "__main__":
    asyncio.run(main())
