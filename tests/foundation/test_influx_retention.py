"""InfluxDB retention and downsampling on the real server (issue #16, docs/timeseries.md): raw readings in a
policy of ``influx_raw_retention_days``, their 1-minute and 1-hour aggregates in policies of their own
filled by continuous queries, everything else kept for good in the default policy, and the points that
tell the dashboards which policy serves which range."""

from __future__ import annotations

import asyncio
import time

import aiohttp
import pytest

from recorder.influx import InfluxWriter
from recorder.retention import (FOREVER_MS, continuous_query, ensure_retention, policy_points, reading_policies,
                                run_aggregation)
from hazmon.series import HOUR_POLICY, MINUTE_POLICY, RAW_POLICY, READING_POLICY
from hazmon.settings import Settings

pytestmark = pytest.mark.servers
MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000


async def query(settings: Settings, database: str, q: str) -> list[dict]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/query", data={"db": database, "q": q, "epoch": "ms"}) as response:
        result = (await response.json())["results"][0]
    assert "error" not in result, (q, result)
    return [{"series": series.get("name"), **series.get("tags", {}), **dict(zip(series["columns"], row))}
            for series in result.get("series", []) for row in series.get("values", [])]


async def ensure(settings: Settings, database: str) -> None:
    async with aiohttp.ClientSession() as session:
        await ensure_retention(session, settings.influx_url, database, settings)


async def aggregate(settings: Settings, database: str, policy_name: str, start_ms: int, end_ms: int) -> None:
    [policy] = [p for p in reading_policies(settings) if p.name == policy_name]
    async with aiohttp.ClientSession() as session:
        await run_aggregation(session, settings.influx_url, database, policy, start_ms, end_ms)


async def continuous_queries(settings: Settings, database: str) -> dict[str, str]:
    return {row["name"]: row["query"] for row in await query(settings, database, "SHOW CONTINUOUS QUERIES")
            if row["series"] == database}


async def write(settings: Settings, database: str, lines: list[str]) -> None:
    writer = InfluxWriter(settings, database=database)               # no ensure_database: the first write makes it
    try:
        await writer.write(lines)
    finally:
        await writer.close()


def reading(point: str, value: float, ts: int) -> str:
    return f"reading,enterprise=E1,point={point},site=S1,type=pressure value={value} {ts}"


async def test_policies_continuous_queries_and_choices_are_made_and_follow_the_settings(
        influxdb: Settings, database: str) -> None:
    await ensure(influxdb, database)
    policies = {row["name"]: row for row in await query(influxdb, database, f'SHOW RETENTION POLICIES ON "{database}"')}
    assert policies["autogen"]["duration"] == "0s" and policies["autogen"]["default"] is True   # kept for good
    assert {name: policies[name]["duration"] for name in (RAW_POLICY, MINUTE_POLICY, HOUR_POLICY)} == {
        RAW_POLICY: "2160h0m0s", MINUTE_POLICY: "26280h0m0s", HOUR_POLICY: "0s"}                # 90 d, 3 years, for good
    cqs = await continuous_queries(influxdb, database)
    assert set(cqs) == {"reading_1m", "reading_1h"}
    assert "RESAMPLE EVERY 1m FOR 2m" in cqs["reading_1m"]
    assert f"INTO {database}.{MINUTE_POLICY}.reading FROM {database}.{RAW_POLICY}.reading" in cqs["reading_1m"]
    assert f"INTO {database}.{HOUR_POLICY}.reading FROM {database}.{MINUTE_POLICY}.reading" in cqs["reading_1h"]
    choices = await query(influxdb, database, f'SELECT * FROM "autogen"."{READING_POLICY}"')
    assert [(row["time"], row["rp"], row["sum_field"]) for row in choices] == [
        (90 * DAY_MS, RAW_POLICY, "value"), (1095 * DAY_MS + 1, MINUTE_POLICY, "sum"), (FOREVER_MS + 2, HOUR_POLICY, "sum")]

    shorter = influxdb.model_copy(update={"influx_raw_retention_days": 7, "influx_minute_retention_days": 400,
                                          "influx_hourly_retention_days": 3650})
    await ensure(shorter, database)
    await ensure(shorter, database)                                 # idempotent
    policies = {row["name"]: row for row in await query(influxdb, database, f'SHOW RETENTION POLICIES ON "{database}"')}
    assert [policies[name]["duration"] for name in (RAW_POLICY, MINUTE_POLICY, HOUR_POLICY)] == [
        "168h0m0s", "9600h0m0s", "87600h0m0s"]
    assert policies["autogen"]["default"] is True
    choices = await query(influxdb, database, f'SELECT * FROM "autogen"."{READING_POLICY}"')
    assert [(row["time"], row["rp"], row["max_span_ms"], row["sum_field"]) for row in choices] == policy_points(shorter)
    assert [row["time"] for row in choices] == [7 * DAY_MS, 400 * DAY_MS + 1, 3650 * DAY_MS + 2]


async def test_continuous_queries_of_another_shape_or_name_are_replaced(influxdb: Settings, database: str) -> None:
    await ensure(influxdb, database)
    [minute] = [p for p in reading_policies(influxdb) if p.name == MINUTE_POLICY]
    await query(influxdb, database, f'DROP CONTINUOUS QUERY "reading_1m" ON "{database}"')
    await query(influxdb, database, f'CREATE CONTINUOUS QUERY "reading_1m" ON "{database}" BEGIN SELECT max("value") '
                                    f'INTO "{database}"."{MINUTE_POLICY}"."other" FROM "{database}"."{RAW_POLICY}"."reading" '
                                    f'GROUP BY time(1m) END')
    await query(influxdb, database, f'CREATE CONTINUOUS QUERY "reading_old" ON "{database}" BEGIN SELECT max("value") '
                                    f'INTO "{database}"."autogen"."old" FROM "{database}"."{RAW_POLICY}"."reading" '
                                    f'GROUP BY time(1h) END')   # an earlier layout's
    await ensure(influxdb, database)
    cqs = await continuous_queries(influxdb, database)
    assert set(cqs) == {"reading_1m", "reading_1h"}
    assert "other" not in cqs["reading_1m"] and cqs["reading_1m"] == continuous_query(database, minute).replace('"', "")


async def test_readings_go_to_raw_the_rest_to_the_default_and_aggregates_have_the_right_values(
        influxdb: Settings, database: str) -> None:
    hour = (int(time.time() * 1000) // HOUR_MS - 2) * HOUR_MS       # a whole hour, two hours ago
    p1 = [(hour, 1.0), (hour + 20_000, 2.0), (hour + 40_000, 6.0), (hour + MINUTE_MS, 3.0), (hour + 30 * MINUTE_MS, 8.0)]
    lines = [reading("P1", value, ts) for ts, value in p1]
    lines += [reading("P2", 5.0, hour + 1000),
              f'alarm,enterprise=E1,site=S1,point=P1,rule=limit,level=high,state=active id="a1",value=6.0 {hour}']
    await write(influxdb, database, lines)
    assert [row["count"] for row in await query(influxdb, database, f'SELECT count("value") FROM "{RAW_POLICY}"."reading"')] == [6]
    assert await query(influxdb, database, 'SELECT count("value") FROM "reading"') == []   # not in autogen
    assert [row["id"] for row in await query(influxdb, database, "SELECT * FROM alarm")] == ["a1"]

    # what the continuous queries run every minute and every hour, run by hand over that hour
    await aggregate(influxdb, database, MINUTE_POLICY, hour, hour + HOUR_MS)
    await aggregate(influxdb, database, HOUR_POLICY, hour, hour + HOUR_MS)
    fields = '"value", "min", "max", "sum", "count"'
    minutes = await query(influxdb, database, f'SELECT {fields} FROM "{MINUTE_POLICY}"."reading" WHERE "point" = \'P1\' GROUP BY *')
    assert [(r["time"], r["value"], r["min"], r["max"], r["sum"], r["count"], r["type"]) for r in minutes] == [
        (hour, 3.0, 1.0, 6.0, 9.0, 3, "pressure"), (hour + MINUTE_MS, 3.0, 3.0, 3.0, 3.0, 1, "pressure"),
        (hour + 30 * MINUTE_MS, 8.0, 8.0, 8.0, 8.0, 1, "pressure")]
    hours = await query(influxdb, database, f'SELECT {fields} FROM "{HOUR_POLICY}"."reading" GROUP BY *')
    assert {r["point"]: (r["time"], r["value"], r["min"], r["max"], r["sum"], r["count"]) for r in hours} == {
        "P1": (hour, 4.0, 1.0, 8.0, 20.0, 5),             # the mean of the five readings, not of the three minutes
        "P2": (hour, 5.0, 5.0, 5.0, 5.0, 1)}


async def test_the_minute_continuous_query_aggregates_what_was_written(influxdb: Settings, database: str) -> None:
    now = int(time.time() * 1000)
    minute = now // MINUTE_MS * MINUTE_MS - MINUTE_MS                 # the last whole minute: the next run covers it
    await write(influxdb, database, [reading("P1", v, minute + i * 10_000) for i, v in enumerate([2.0, 4.0, 9.0])])

    rows: list[dict] = []
    for _ in range(75):                                               # InfluxDB runs it at each minute's start
        rows = await query(influxdb, database, f'SELECT "value", "min", "max", "count" FROM "{MINUTE_POLICY}"."reading"')
        if rows:
            break
        await asyncio.sleep(2)
    assert [(r["time"], r["value"], r["min"], r["max"], r["count"]) for r in rows] == [(minute, 5.0, 2.0, 9.0, 3)]


async def test_readings_older_than_the_raw_retention_are_dropped_not_retried(influxdb: Settings, database: str) -> None:
    now = int(time.time() * 1000)
    old = now - 100 * DAY_MS                                         # beyond the default 90 days
    writer = InfluxWriter(influxdb, database=database)
    try:
        await writer.write([reading("P1", 1.0, old), reading("P1", 2.0, now)])   # no error: the old one is dropped by policy
    finally:
        await writer.close()
    assert writer.set_aside == 0
    rows = await query(influxdb, database, f'SELECT "value" FROM "{RAW_POLICY}"."reading"')
    assert [row["value"] for row in rows] == [2.0]
