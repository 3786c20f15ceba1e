"""Benchmark: bytes per reading on InfluxDB's disk, raw and aggregated, and the one-year disk estimate.

A generated county (``device_sim.county``, ``--enterprises``) reports ``--days`` of readings at each
point's own ``period_s`` with the simulator's signals (model, sensor noise and resolution, one random
millisecond phase per point); fire detectors report events, not readings, and are left out. The readings
go through the recorder's InfluxWriter into a private InfluxDB 1.8 (the stack's build and configuration, its own
home and ports, snapshots and full compactions after one cold second), which aggregates them as
late readings (``recorder.late_readings``: the continuous queries' statement), and once the shards are
fully compacted each policy's directory is measured (``du`` of the TSM files; the inmem index has none).

The estimate scales the county to a rate: points = rate × the county's mean period; raw kept
``influx_raw_retention_days``, a year of minute and hour aggregates (one row per point and bucket with at
least one reading). ``aggregated_readings_per_s``: raw readings per second of the writer's aggregation
(minute, then hour; what a continuous query's run costs per reading it reads). Last stdout line: JSON.

    .venv/bin/python bench/influx_disk.py --enterprises 20 --days 2
"""

from __future__ import annotations

import argparse
import asyncio
import os
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path

# bench/device_sim.py is named like the package the county comes from: import the package, not that script
sys.path[0] = str(Path(__file__).resolve().parents[1])

import aiohttp  # noqa: E402
import numpy as np  # noqa: E402
import orjson  # noqa: E402

from hazmon.registry import load_registry  # noqa: E402
from hazmon.registry.loader import PointEntry  # noqa: E402
from hazmon.registry.models import PointType  # noqa: E402
from hazmon.series import HOUR_POLICY, MINUTE_POLICY, RAW_POLICY, reading_lines, reading_prefix  # noqa: E402
from hazmon.settings import Settings, get_settings  # noqa: E402
from hzctl.stack.influxdb import InfluxDB  # noqa: E402

from recorder.influx import InfluxWriter  # noqa: E402
from device_sim.county import write_county  # noqa: E402
from device_sim.hydrology import pond_state  # noqa: E402
from device_sim.signals import signal  # noqa: E402
from device_sim.stream import rng_for  # noqa: E402

DATABASE = "disk"
YEAR_S = 365 * 86_400
RATES = (1_000, 20_000)
BUCKET_S = {MINUTE_POLICY: 60, HOUR_POLICY: 3600}
CHUNK = 200_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def private_influxdb(base: Settings, home: Path, port: int) -> InfluxDB:
    """The stack's InfluxDB, configured under ``home`` on ``port`` (and ``port`` + 2), with snapshots and full
    compactions after one cold second instead of InfluxDB's 10 minutes and 4 hours."""
    settings = base.model_copy(update={"home": home, "cache_dir": base.cache_path, "influx_password": None,
                                       "influx_url": f"http://127.0.0.1:{port}"})
    server = InfluxDB(settings)
    server.prepare()
    conf = server.conf_dir / "influxdb.conf"
    conf.write_text(conf.read_text().replace("[data]\n", '[data]\n  cache-snapshot-write-cold-duration = "1s"\n'
                                                          '  compact-full-write-cold-duration = "1s"\n', 1))
    return server


def county_readings(entries: list[PointEntry], end_s: float, days: float, seed: int) -> Iterator[list[str]]:
    """``days`` of each point's readings up to ``end_s``, as line protocol, one list per point."""
    for entry in entries:
        period = float(entry.point.period_s)
        count = int(days * 86_400 / period)
        start_s = end_s - count * period
        t_s = start_s + period * np.arange(count)
        pond = pond_state(rng_for(seed, entry.enterprise, entry.site.id), start_s, count * period, [])
        values = signal(entry, t_s, rng_for(seed, entry.enterprise, entry.id), pond)
        phase_ms = int(rng_for(seed + 1_000, entry.enterprise, entry.id).integers(0, 1000))
        prefix = reading_prefix(entry.enterprise, entry.site.id, entry.point.id, entry.point.type.value)
        yield reading_lines(prefix, [int(t * 1000) + phase_ms for t in t_s], [float(v) for v in values])


def du(path: Path) -> int:
    return sum(f.stat().st_size for f in path.rglob("*") if f.is_file())


async def rows(settings: Settings, policy: str) -> int:
    async with aiohttp.ClientSession() as session, session.post(f"{settings.influx_url}/query", data={
            "db": DATABASE, "q": f'SELECT count("value") FROM "{policy}"."reading"'}) as response:
        series = (await response.json())["results"][0].get("series", [])
    return int(series[0]["values"][0][1]) if series else 0


async def fill(settings: Settings, readings: Iterator[list[str]]) -> tuple[int, float, float]:
    """Write the readings (in chunks, to bound memory) and let the writer aggregate them at close (they are
    late: recorder.late_readings); readings written, seconds of the writes, seconds of the aggregation."""
    writer = InfluxWriter(settings, database=DATABASE)
    count, seconds, chunk = 0, 0.0, []
    try:
        for lines in readings:
            chunk += lines
            if len(chunk) >= CHUNK:
                began = time.monotonic()
                await writer.write(chunk)
                count, seconds, chunk = count + len(chunk), seconds + time.monotonic() - began, []
        began = time.monotonic()
        await writer.write(chunk)
        count, seconds = count + len(chunk), seconds + time.monotonic() - began
    finally:
        began = time.monotonic()
        await writer.close()
    return count, seconds, time.monotonic() - began


def settled(data: Path, wal: Path, quiet_s: float = 8.0, limit_s: float = 300.0) -> None:
    """Wait until the WAL is empty and no shard file changed for ``quiet_s`` (fully compacted)."""
    deadline = time.monotonic() + limit_s
    while time.monotonic() < deadline:
        newest = max((f.stat().st_mtime for f in data.rglob("*") if f.is_file()), default=0.0)
        if du(wal) == 0 and time.time() - newest > quiet_s:
            return
        time.sleep(1)
    raise TimeoutError(f"InfluxDB did not finish compacting: WAL {du(wal)} bytes, "
                       f"files {sorted(str(f.relative_to(data)) for f in data.rglob('*') if f.is_file())}")


def estimate(per_reading: dict[str, float], entries: list[PointEntry], settings: Settings) -> dict[str, dict]:
    """One year's disk at each of RATES readings/s, raw (its retention) + a year of each aggregate."""
    county_rate = sum(1 / float(e.point.period_s) for e in entries)
    bucket_rows = {policy: sum(1 / max(float(e.point.period_s), bucket) for e in entries) for policy, bucket in BUCKET_S.items()}
    raw_days = min(settings.influx_raw_retention_days, 365)
    out = {}
    for rate in RATES:
        scale = rate / county_rate
        raw = rate * raw_days * 86_400 * per_reading[RAW_POLICY]
        aggregated = {policy: scale * bucket_rows[policy] * YEAR_S * per_reading[policy] for policy in BUCKET_S}
        out[str(rate)] = {"points": round(scale * len(entries)), "raw_gb": round(raw / 1e9, 1),
                          **{f"{policy}_gb": round(size / 1e9, 1) for policy, size in aggregated.items()},
                          "total_gb": round((raw + sum(aggregated.values())) / 1e9, 1)}
    return out


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=20)
    parser.add_argument("--days", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=1, help="the county's and the signals' seed")
    args = parser.parse_args()
    base = get_settings()
    with tempfile.TemporaryDirectory(prefix="hz-influx-disk-") as tmp:
        root = Path(tmp)
        write_county(root / "registry", args.enterprises, seed=args.seed)
        entries = [e for e in load_registry(root / "registry") if e.point.type is not PointType.FIRE_DETECTOR]
        end_s = float(int(time.time()) // 86_400 * 86_400)        # UTC midnight: whole one-day raw shards
        server = private_influxdb(base, root / "home", free_port())
        settings, data = server.settings, server.data_dir
        process = subprocess.Popen(server.argv(), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env={**os.environ, **server.env()})
        try:
            while await asyncio.to_thread(server.health) is not None:
                await asyncio.sleep(0.2)
            count, write_s, aggregate_s = await fill(settings, county_readings(entries, end_s, args.days, args.seed))
            await asyncio.to_thread(settled, data / "data", data / "wal")
            counts = {policy: await rows(settings, policy) for policy in (RAW_POLICY, MINUTE_POLICY, HOUR_POLICY)}
            sizes = {policy: du(data / "data" / DATABASE / policy) for policy in counts}
        finally:
            process.terminate()
            process.wait(timeout=30)
    per_reading = {policy: sizes[policy] / counts[policy] for policy in counts}
    print(orjson.dumps({
        "enterprises": args.enterprises, "seed": args.seed, "points": len(entries), "days": args.days, "readings": count,
        "rows": counts, "bytes": sizes, "bytes_per_row": {p: round(v, 2) for p, v in per_reading.items()},
        "write_readings_per_s": round(count / write_s), "aggregated_readings_per_s": round(count / aggregate_s),
        "one_year": estimate(per_reading, entries, settings),
    }).decode())


if __name__ == "__main__":
    asyncio.run(main())
