"""The dashboards read readings from the policy that serves their time range (docs/timeseries.md), on the
real InfluxDB: the hidden variables' queries, filled in as Grafana fills them, choose raw for a short recent
range, minute aggregates for a longer or older one and hourly aggregates beyond; a panel over a year reads
the hourly aggregates, one over the last hours the raw readings."""

from __future__ import annotations

import time

import aiohttp
import pytest

from hazmon.registry import Registry
from hazmon.registry.models import PointType
from hazmon.series import HOUR_POLICY, MINUTE_POLICY, RAW_POLICY, reading_prefix
from hazmon.settings import Settings

from recorder.influx import InfluxWriter
from dashboards.boards import tailings
from dashboards.influxql import POLICY_VARIABLE, SUM_VARIABLE
from tests.dashboards.support import all_panels

pytestmark = pytest.mark.servers
HOUR_MS = 3_600_000
DAY_MS = 24 * HOUR_MS


@pytest.fixture
async def database(influxdb: Settings, database: str) -> str:
    writer = InfluxWriter(influxdb, database=database)
    try:
        assert await writer.ensure_database()            # the policies and their choices, as at the platform's start
    finally:
        await writer.close()
    return database


async def run(settings: Settings, database: str, query: str) -> list[dict]:
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/query", data={"db": database, "q": query, "epoch": "ms"}) as response:
        result = (await response.json())["results"][0]
    assert "error" not in result, (query, result)
    return result.get("series", [])


def variables(models: dict[str, dict]) -> dict[str, dict]:
    return {v["name"]: v for v in models[tailings.UID]["templating"]["list"]}


async def choose(settings: Settings, database: str, variable: dict, start_ms: int, end_ms: int) -> str:
    """The variable's value for the range, as Grafana takes it: the first row's value after the time column."""
    query = variable["query"].replace("${__from}", str(start_ms)).replace("${__to}", str(end_ms))
    [series] = await run(settings, database, query)
    return series["values"][0][1]


@pytest.mark.parametrize(("start_days_ago", "end_days_ago", "policy", "sum_field"), [
    (0.25, 0, RAW_POLICY, "value"),          # the last 6 hours
    (2, 0, RAW_POLICY, "value"),             # two days: still raw
    (7, 0, MINUTE_POLICY, "sum"),            # a week: too long for raw
    (100, 99, MINUTE_POLICY, "sum"),         # a day 100 days ago: raw (90 days) no longer holds it
    (90, 0, HOUR_POLICY, "sum"),             # 90 days: beyond what minutes serve
    (1200, 1199, HOUR_POLICY, "sum"),        # a day 1 200 days ago: only hours are kept that long
])
async def test_the_range_chooses_the_policy(influxdb: Settings, database: str, models: dict[str, dict],
                                            start_days_ago: float, end_days_ago: float, policy: str, sum_field: str) -> None:
    now = int(time.time() * 1000)
    start, end = now - int(start_days_ago * DAY_MS), now - int(end_days_ago * DAY_MS)
    chosen = variables(models)
    assert await choose(influxdb, database, chosen[POLICY_VARIABLE], start, end) == policy
    assert await choose(influxdb, database, chosen[SUM_VARIABLE], start, end) == sum_field


def panel_query(models: dict[str, dict], point_type: str, start_ms: int, end_ms: int, policy: str, sum_field: str) -> str:
    """The tailings panel query of ``point_type``, filled in as Grafana does for the range."""
    [query] = [t["query"] for p in all_panels(models[tailings.UID]) for t in p.get("targets", [])
               if f"\"type\" = '{point_type}'" in t["query"] and "$timeFilter" in t["query"]
               and ("$reading_sum" in t["query"]) == (point_type == "rainfall")]
    for macro, value in {"$timeFilter": f"time >= {start_ms}ms AND time <= {end_ms}ms", "$__interval": "1d",
                         "$enterprise": ".*", "$pond": ".*", "$point": ".*", f"${POLICY_VARIABLE}": policy, f"${SUM_VARIABLE}": sum_field}.items():
        query = query.replace(macro, value)
    return query


async def test_a_panel_over_a_year_reads_the_hourly_aggregates_and_one_over_hours_the_raw_readings(
        influxdb: Settings, database: str, registry: Registry, models: dict[str, dict]) -> None:
    level = next(e for e in registry if e.point.type is PointType.WATER_LEVEL)
    rain = next(e for e in registry if e.point.type is PointType.RAINFALL)
    now = int(time.time() * 1000)
    old = (now - 200 * DAY_MS) // HOUR_MS * HOUR_MS                  # long past the raw retention
    prefixes = {e.point.type: reading_prefix(e.enterprise, e.site.id, e.point.id, e.point.type.value).split(" ")[0]
                for e in (level, rain)}
    hourly = [f"{prefixes[PointType.WATER_LEVEL]} value=401.5,min=400.0,max=403.0,sum=24090.0,count=60i {old}",
              f"{prefixes[PointType.RAINFALL]} value=0.5,min=0.0,max=2.0,sum=30.0,count=60i {old}"]
    raw = [f"{prefixes[PointType.WATER_LEVEL]} value=390.25 {now - HOUR_MS}", f"{prefixes[PointType.RAINFALL]} value=1.5 {now - HOUR_MS}"]
    async with aiohttp.ClientSession() as session:
        for policy, lines in ((HOUR_POLICY, hourly), (RAW_POLICY, raw)):
            async with session.post(f"{influxdb.influx_url}/write", params={"db": database, "rp": policy, "precision": "ms"},
                                    data="\n".join(lines)) as response:
                assert response.status == 204, await response.text()

    chosen = variables(models)
    for start, values in ((now - 365 * DAY_MS, {"water_level": 401.5, "rainfall": 30.0}),
                          (now - 6 * HOUR_MS, {"water_level": 390.25, "rainfall": 1.5})):
        policy = await choose(influxdb, database, chosen[POLICY_VARIABLE], start, now)
        sum_field = await choose(influxdb, database, chosen[SUM_VARIABLE], start, now)
        for point_type, value in values.items():
            query = panel_query(models, point_type, start, now, policy, sum_field)
            [series] = await run(influxdb, database, query)
            assert series["name"] == "reading"
            assert [v for _, v in series["values"] if v is not None] == [value], (policy, query)
