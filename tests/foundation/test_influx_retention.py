"""InfluxDB retention on the real server (issue #16): raw readings in a policy of
``influx_raw_retention_days``, everything else kept for good in the default policy, and each point's
hourly min/mean/max written by a continuous query into the long policy."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from alerting.influx import InfluxWriter
from alerting.retention import HOURLY, LONG_POLICY, RAW_POLICY, ensure_retention, hourly_select
from hazmon.settings import Settings

pytestmark = pytest.mark.servers
HOUR_MS = 3_600_000


async def query(settings: Settings, database: str, q: str) -> list[dict]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/query", data={"db": database, "q": q, "epoch": "ms"}) as response:
        result = (await response.json())["results"][0]
    assert "error" not in result, (q, result)
    return [{"series": series.get("name"), **series.get("tags", {}), **dict(zip(series["columns"], row))}
            for series in result.get("series", []) for row in series.get("values", [])]


@pytest.fixture
async def database(influxdb: Settings, unique: str) -> AsyncIterator[str]:
    name = f"hz_retention_{unique}"
    yield name
    async with aiohttp.ClientSession() as session:
        await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{name}"'})


async def ensure(settings: Settings, database: str) -> None:
    async with aiohttp.ClientSession() as session:
        await ensure_retention(session, settings.influx_url, database, settings)


async def continuous_query_text(settings: Settings, database: str) -> str:
    [cq] = [row["query"] for row in await query(settings, database, "SHOW CONTINUOUS QUERIES")
            if row["series"] == database and row["name"] == HOURLY]
    return cq


async def test_policies_and_the_continuous_query_are_made_and_follow_the_settings(influxdb: Settings, database: str) -> None:
    await ensure(influxdb, database)
    policies = {row["name"]: row for row in await query(influxdb, database, f'SHOW RETENTION POLICIES ON "{database}"')}
    assert policies["autogen"]["duration"] == "0s" and policies["autogen"]["default"] is True   # kept for good
    assert policies[RAW_POLICY]["duration"] == "720h0m0s" and policies[RAW_POLICY]["default"] is False
    assert policies[LONG_POLICY]["duration"] == "0s"
    cq = await continuous_query_text(influxdb, database)
    assert "RESAMPLE EVERY 1h FOR 2h" in cq
    assert f"INTO {database}.{LONG_POLICY}.{HOURLY} FROM {database}.{RAW_POLICY}.reading" in cq

    shorter = influxdb.model_copy(update={"influx_raw_retention_days": 7, "influx_hourly_retention_days": 3650})
    await ensure(shorter, database)
    await ensure(shorter, database)                                 # idempotent
    policies = {row["name"]: row for row in await query(influxdb, database, f'SHOW RETENTION POLICIES ON "{database}"')}
    assert policies[RAW_POLICY]["duration"] == "168h0m0s"
    assert policies[LONG_POLICY]["duration"] == "87600h0m0s"
    assert policies["autogen"]["default"] is True


async def test_a_continuous_query_of_another_shape_is_replaced(influxdb: Settings, database: str) -> None:
    await ensure(influxdb, database)
    await query(influxdb, database, f'DROP CONTINUOUS QUERY "{HOURLY}" ON "{database}"')
    await query(influxdb, database, f'CREATE CONTINUOUS QUERY "{HOURLY}" ON "{database}" BEGIN SELECT max("value") '
                                    f'INTO "{database}"."{LONG_POLICY}"."other" FROM "{database}"."{RAW_POLICY}"."reading" '
                                    f'GROUP BY time(1h) END')
    await ensure(influxdb, database)
    cq = await continuous_query_text(influxdb, database)
    assert f"{LONG_POLICY}.{HOURLY}" in cq and "other" not in cq


async def test_readings_go_to_raw_the_rest_to_the_default_and_hourly_aggregates_to_long(
        influxdb: Settings, database: str) -> None:
    hour = (int(time.time() * 1000) // HOUR_MS - 2) * HOUR_MS       # a whole hour, two hours ago
    values = [1.0, 2.0, 6.0]
    lines = [f"reading,enterprise=E1,point=P1,site=S1,type=pressure value={v} {hour + i * 60_000}"
             for i, v in enumerate(values)]
    lines += [f"reading,enterprise=E1,point=P2,site=S1,type=pressure value=5.0 {hour + 1000}",
              f'alarm,enterprise=E1,site=S1,point=P1,rule=limit,level=high,state=active id="a1",value=6.0 {hour}']
    writer = InfluxWriter(influxdb, database=database)               # no ensure_database: the first write makes it
    try:
        await writer.write(lines)
    finally:
        await writer.close()

    assert [row["count"] for row in await query(influxdb, database, f'SELECT count("value") FROM "{RAW_POLICY}"."reading"')] == [4]
    assert await query(influxdb, database, 'SELECT count("value") FROM "reading"') == []   # not in autogen
    assert [row["id"] for row in await query(influxdb, database, "SELECT * FROM alarm")] == ["a1"]

    # what the continuous query runs every hour, run by hand over that hour
    await query(influxdb, database, hourly_select(database, f" WHERE time >= {hour}ms AND time < {hour + HOUR_MS}ms"))
    rows = await query(influxdb, database, f'SELECT "min", "mean", "max", "count" FROM "{LONG_POLICY}"."{HOURLY}" GROUP BY *')
    assert {row["point"]: (row["time"], row["min"], row["mean"], row["max"], row["count"], row["type"])
            for row in rows} == {"P1": (hour, 1.0, 3.0, 6.0, 3, "pressure"), "P2": (hour, 5.0, 5.0, 5.0, 1, "pressure")}


async def test_readings_older_than_the_raw_retention_are_dropped_not_retried(influxdb: Settings, database: str) -> None:
    now = int(time.time() * 1000)
    old = now - 40 * 24 * HOUR_MS                                    # beyond the default 30 days
    lines = [f"reading,enterprise=E1,point=P1,site=S1,type=pressure value=1.0 {old}",
             f"reading,enterprise=E1,point=P1,site=S1,type=pressure value=2.0 {now}"]
    writer = InfluxWriter(influxdb, database=database)
    try:
        await writer.write(lines)                                    # no error: the old one is dropped by policy
    finally:
        await writer.close()
    rows = await query(influxdb, database, f'SELECT "value" FROM "{RAW_POLICY}"."reading"')
    assert [row["value"] for row in rows] == [2.0]
