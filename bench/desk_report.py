"""Benchmark: the cost of 值班日报's 联网与在线 (``/desk/report``, alerting/desk/shift.py) on a county's day of readings.

A generated county (``device_sim.county``, ``--enterprises``; its points' own periods decide 在线) sends a whole
Beijing day (yesterday) of readings, every reading point each ``--period`` seconds (one random phase per point), into
a scratch database of the local InfluxDB (``settings.influx_url``), written by the recorder's InfluxWriter: the
database's retention policies and continuous queries (recorder/retention.py), and the readings' minute and hour
aggregates as the recorder makes them for readings that come late (recorder/late_readings.py: the continuous
queries' own statement). The database is dropped at the end.

Then, ``--runs`` times, interleaved, each timed alone:

- ``raw_day``: the report's query (``Readings.last_readings`` of the whole day from ``raw``, the desk's 10 s
  timeout: ``timed_out`` counts the runs it did not answer in, when the page says 联网率 unavailable);
- ``raw_hour``, the baseline: the same query over the day's last hour;
- ``full_scan``, the control: ``count`` instead of ``last`` over the same day and series, which reads every reading
  (what the report's query would cost if ``last`` read them all);
- ``report_page``: the whole page, ``GET /desk/report?day=`` of that day from a signed-in duty account, served by
  an alerting service with the desk (on topics of its own, one open alarm, the county's registry, InfluxDB the
  scratch database), until its body is read (联网与在线 there, not "unavailable");
- ``enterprise_view``: the enterprise view's query (``last_readings(enterprise)``, no time bound: every raw
  reading of one enterprise the retention holds; here one day of them).

The 考核指标 series (alerting/desk/assessment_series.py) ask the report's own query. Seconds
are min–median–max over the runs; the load average at each run's start. Last stdout line: one JSON object.

    .venv/bin/python bench/desk_report.py --enterprises 163 --period 10 --runs 5     # ≈ 2 000 points, 17 M readings
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, Iterator
from pathlib import Path

# bench/device_sim.py is named like the package the county comes from: import the package, not that script
sys.path[0] = str(Path(__file__).resolve().parents[1])

import aiohttp  # noqa: E402
import orjson  # noqa: E402
from aiohttp import web  # noqa: E402
from aiokafka import AIOKafkaProducer  # noqa: E402

from hazmon.registry import Registry, load_registry  # noqa: E402
from hazmon.secrets import Secrets, token_index  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from hazmon.series import RAW_POLICY, reading_prefix  # noqa: E402
from hazmon.officer_time import beijing  # noqa: E402
from hazmon.settings import get_settings  # noqa: E402

from alerting.api.routes import build_app  # noqa: E402
from alerting.clock import ManualClock  # noqa: E402
from alerting.desk.accounts import Accounts  # noqa: E402
from alerting.desk.handover import Handovers  # noqa: E402
from alerting.desk.source import DeskStores  # noqa: E402
from alerting.service import AlertingService  # noqa: E402
from bench.desk import PASSWORD, drop_run, opened, produce, signed_in  # noqa: E402
from alerting.desk.assessment_series import day_start_ms  # noqa: E402
from alerting.desk.connectivity import connectivity, reports_readings  # noqa: E402
from alerting.desk.readings import InfluxUnavailable, Readings  # noqa: E402
from device_sim.county import write_county  # noqa: E402
from recorder.influx import InfluxWriter  # noqa: E402

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
CHUNK = 500_000


def day_lines(registry: Registry, start_ms: int, period_ms: int, seed: int) -> Iterator[list[str]]:
    """Each reading point's readings in ``[start_ms, start_ms + DAY_MS)``, one list per point."""
    phases = random.Random(seed)
    for (enterprise, point_id), entry in sorted(registry.points.items()):
        if not reports_readings(entry):
            continue
        prefix = reading_prefix(enterprise, entry.site.id, point_id, entry.point.type.value)
        phase = phases.randrange(period_ms)
        yield [f"{prefix}{1.0 + (ts // period_ms) % 7} {ts}" for ts in range(start_ms + phase, start_ms + DAY_MS, period_ms)]


async def fill(writer: InfluxWriter, lines: Iterator[list[str]]) -> int:
    """Write the readings in chunks; the writer aggregates them (late readings) at close."""
    count, chunk = 0, []
    for point_lines in lines:
        chunk += point_lines
        if len(chunk) >= CHUNK:
            await writer.write(chunk)
            count, chunk = count + len(chunk), []
    await writer.write(chunk)
    return count + len(chunk)


async def full_scan(url: str, headers: dict[str, str], database: str, start_ms: int, end_ms: int) -> int:
    """Every reading of the day counted per point (no timeout): how many readings there were."""
    query = (f'SELECT count("value") FROM "{RAW_POLICY}"."reading" WHERE time >= {start_ms}ms AND time < {end_ms}ms '
             'GROUP BY "enterprise", "point"')
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=1800)) as session, \
            session.get(f"{url}/query", params={"db": database, "q": query, "epoch": "ms"}) as answer:
        body = await answer.json(content_type=None)
    return sum(int(s["values"][0][1]) for s in body["results"][0].get("series", []))


async def report_page(http: aiohttp.ClientSession, base: str, day: str) -> None:
    async with http.get(f"{base}/desk/report", params={"day": day}) as answer:
        body = await answer.text()
    assert answer.status == 200 and 'id="connectivity"' in body and 'class="error"' not in body, (answer.status, body[:300])


async def seconds(work: Callable[[], Awaitable[object]]) -> float | None:
    """Seconds ``work`` took; None when InfluxDB did not answer in the desk's time."""
    began = time.perf_counter()
    try:
        await work()
    except InfluxUnavailable:
        return None
    return round(time.perf_counter() - began, 4)


def spread(values: list[float | None]) -> list[float] | None:
    """min, median, max of the runs that answered; None when none did."""
    answered = [v for v in values if v is not None]
    return [min(answered), round(statistics.median(answered), 4), max(answered)] if answered else None


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--enterprises", type=int, default=163, help="the county's size (≈ 12 reading points each)")
    parser.add_argument("--period", type=float, default=10.0, help="seconds between a point's readings")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args()
    run = uuid.uuid4().hex[:10]
    database = f"bench_desk_report_{run}"
    home = Path(tempfile.mkdtemp(prefix="hz-desk-report-"))
    write_county(home / "registry", args.enterprises, seed=args.seed)
    names = PlatformTopics.with_suffix(f".bench-desk-report-{run}")
    settings = get_settings().model_copy(update={
        "home": home, "influx_db": database, "registry_dir": home / "registry", "kafka_topic_suffix": names.suffix,
        "alerting_webhooks": [], "alerting_dingtalk_urls": [], "alerting_wecom_urls": [], "alerting_channels": [],
        "grafana_url": None})
    registry = load_registry(settings.registry_dir)
    headers = settings.influx_headers
    points = sum(reports_readings(e) for e in registry.points.values())
    now_ms = int(time.time() * 1000)
    start = day_start_ms(now_ms) - DAY_MS                           # yesterday, Beijing time: a whole day
    end = start + DAY_MS
    day = beijing(start).date().isoformat()
    readings = Readings(settings.influx_url, headers, database)
    enterprise = sorted(registry.enterprises)[0]
    writer = InfluxWriter(settings, database=database)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=0, enable_idempotence=True, acks="all")
    desk = DeskStores(Accounts(home / "desk.sqlite3"), Handovers(home / "desk.sqlite3"))
    desk.accounts.add("bench", "duty", PASSWORD, display_name="基准值班员")
    service = AlertingService(settings, registry, clock=ManualClock(now_ms))
    runner: web.AppRunner | None = None
    http: aiohttp.ClientSession | None = None
    try:
        began = time.monotonic()
        try:
            written = await fill(writer, day_lines(registry, start, int(args.period * 1000), args.seed))
            write_s = time.monotonic() - began
        finally:
            began = time.monotonic()
            await writer.close()                                   # the minute and hour aggregates (late readings)
        aggregate_s = time.monotonic() - began

        await producer.start()
        await produce(producer, names.transitions, opened(registry, 1, now_ms, "report-"))
        await service.start()
        await service.caught_up(timeout_s=120.0)
        runner = web.AppRunner(build_app(service, token_index(Secrets(platform_mqtt_password="-", duty_token="-",
                                                                       enterprises={})), desk), access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001 - the port the OS picked
        http = await signed_in(base)
        page_http = http

        raw_day = await readings.last_readings(start_ms=start, end_ms=end + 1)
        counted = await full_scan(settings.influx_url, headers, database, start, end + 1)
        table = connectivity(registry, lambda _: True, raw_day, end)
        timings: dict[str, list[float | None]] = {}
        loads: list[float] = []
        cases: dict[str, Callable[[], Awaitable[object]]] = {
            "raw_day": lambda: readings.last_readings(start_ms=start, end_ms=end + 1),
            "raw_hour": lambda: readings.last_readings(start_ms=end - HOUR_MS, end_ms=end + 1),
            "full_scan": lambda: full_scan(settings.influx_url, headers, database, start, end + 1),
            "report_page": lambda: report_page(page_http, base, day),
            "enterprise_view": lambda: readings.last_readings(enterprise),
        }
        for _ in range(args.runs):
            loads.append(round(os.getloadavg()[0], 2))
            for name, work in cases.items():
                timings.setdefault(name, []).append(await seconds(work))
    finally:
        if http is not None:
            await http.close()
        if runner is not None:
            await runner.cleanup()
        await service.stop()
        await producer.stop()
        desk.close()
        await drop_run(settings, names, database, home)
    print(orjson.dumps({
        "enterprises": args.enterprises, "points": points, "period_s": args.period, "readings": written,
        "write_readings_per_s": round(written / write_s), "aggregate_s": round(aggregate_s, 1),
        "readings_counted": counted, "runs": args.runs, "load_average": loads,
        "points_sending": table.county.points_sending, "points_online": table.county.points_online,
        "timed_out": {name: sum(v is None for v in values) for name, values in timings.items()},
        "seconds": {name: spread(values) for name, values in timings.items()},
        "runs_seconds": timings,
    }).decode())


if __name__ == "__main__":
    asyncio.run(main())
