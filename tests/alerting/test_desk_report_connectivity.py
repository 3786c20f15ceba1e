"""值班日报's 联网与在线 without a day of raw readings (Readings.day_last_readings): the hours and minutes of the day
from their aggregates, the last minutes raw, give the same table (alerting/desk/connectivity.py) as the one query
over the day's raw readings, on the real InfluxDB: a day that has ended (every aggregate written, as the recorder
writes late readings) and a day in progress whose aggregates lag as the continuous queries' do (the last hour not
yet in ``hour``, the last minutes in neither), with readings at the edges of 在线 (3 periods) and of the day."""

from __future__ import annotations

import aiohttp
import pytest

from hazmon import series
from hazmon.registry import Registry, load_registry
from hazmon.settings import Settings

from alerting.desk.connectivity import CountyConnectivity, connectivity, online_window_ms
from alerting.desk.readings import HOUR_MS, MINUTE_MS, Readings
from recorder.retention import reading_policies, run_aggregation
from testbed.alerting import CHEM, FIRE, MINE, write_influx

pytestmark = pytest.mark.servers
DAY_MS = 86_400_000
ENDED = 1_764_518_400_000              # 2025-12-01 00:00 Beijing time: a day that has ended
TODAY = ENDED + 2 * DAY_MS             # 2025-12-03: in progress, now at 10:40:17
NOW = TODAY + 10 * HOUR_MS + 40 * MINUTE_MS + 17_000
S = 1_000


def ended_day(end: int) -> list[tuple[str, str, int]]:
    """(enterprise, point, ts) of the day that ended at ``end``: periods TK01_* 10 s, TK01_GAS1 5 s, WK01_WL 600 s,
    WK01_RAIN 300 s, BLD1_* 30-60 s (docs/registry: the sample county)."""
    start = end - DAY_MS
    return [(CHEM, "TK01_LT", start + 5 * S),              # the day's first seconds only: sent, offline
            (CHEM, "TK01_PT", start - 1),                  # the day before: not sent
            (CHEM, "TK01_TT", end - 29 * S),               # 3 periods of 10 s: online
            (CHEM, "TK01_GAS1", end - 16 * S),             # 3 periods of 5 s and 1 s more: offline
            (MINE, "WK01_WL", end - 1_800 * S),            # exactly 3 periods of 600 s: online
            (MINE, "WK01_RAIN", end - 901 * S),            # 3 periods of 300 s and 1 s: offline
            (MINE, "WK01_BEACH", start + 3 * HOUR_MS + 7),  # in an hour's aggregate only
            (FIRE, "BLD1_TANK", end),                      # at the report's moment itself: sent and online
            (FIRE, "BLD1_RC1", end + 1)]                   # after it: not sent


def today_so_far() -> list[tuple[str, str, int]]:
    """(enterprise, point, ts) of the day in progress, up to and after NOW."""
    return [(CHEM, "TK01_LT", TODAY + HOUR_MS),
            (CHEM, "TK01_PT", TODAY + 9 * HOUR_MS + 30 * MINUTE_MS),   # its hour not yet aggregated: minutes only
            (CHEM, "TK01_TT", NOW - 25 * S), (CHEM, "TK01_GAS1", NOW - 16 * S),
            (MINE, "WK01_WL", NOW - 1_800 * S), (MINE, "WK01_RAIN", NOW - 901 * S),
            (MINE, "WK01_BEACH", NOW - 100 * S),                        # in no aggregate yet
            (FIRE, "BLD1_TANK", NOW), (FIRE, "BLD1_RC1", NOW + 5 * S)]


def lines(registry: Registry, readings: list[tuple[str, str, int]]) -> list[str]:
    return [f"{series.reading_prefix(e, (p := registry.points[(e, point)].point).site, point, p.type.value)}1.5 {ts}"
            for e, point, ts in readings]


@pytest.fixture
def scratch(influxdb: Settings, database: str) -> Settings:
    return influxdb.model_copy(update={"influx_db": database, "influx_raw_retention_days": 36500})   # readings of 2025


async def both(settings: Settings, registry: Registry, start: int, at: int, now: int) -> tuple[CountyConnectivity, ...]:
    """The table from the day's raw readings (the report's query before) and from Readings.day_last_readings."""
    readings = Readings(settings.influx_url, settings.influx_headers, settings.influx_db)
    raw = await readings.last_readings(start_ms=start, end_ms=at + 1)
    tiered = await readings.day_last_readings(start, at, now, online_window_ms(registry))
    return tuple(connectivity(registry, lambda _: True, last, at) for last in (raw, tiered))


async def test_an_ended_day_from_the_aggregates_gives_the_raw_table(scratch: Settings) -> None:
    settings = scratch
    registry = load_registry(settings.registry_dir)
    await write_influx(settings, lines(registry, ended_day(ENDED + DAY_MS)))   # the recorder aggregates them (late)
    from_raw, tiered = await both(settings, registry, ENDED, ENDED + DAY_MS, NOW)
    assert (from_raw.county.points_sending, from_raw.county.points_online) == (7, 3)
    assert tiered == from_raw


async def test_a_day_in_progress_with_lagging_aggregates_gives_the_raw_table(scratch: Settings) -> None:
    settings = scratch
    registry = load_registry(settings.registry_dir)
    url, database = settings.influx_url, settings.influx_db
    await write_influx(settings, [])                                           # the database and its policies
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session:
        async with session.post(f"{url}/write", params={"db": database, "rp": series.RAW_POLICY, "precision": "ms"},
                                data="\n".join(lines(registry, today_so_far())).encode()) as written:
            assert written.status == 204, await written.text()
        # as the continuous queries left them at NOW: minutes to the one before the last, hours to the one before
        minute, hour = (p for p in reading_policies(settings) if p.bucket)
        await run_aggregation(session, url, database, minute, TODAY, NOW // MINUTE_MS * MINUTE_MS - MINUTE_MS)
        await run_aggregation(session, url, database, hour, TODAY, NOW // HOUR_MS * HOUR_MS - HOUR_MS)
    from_raw, tiered = await both(settings, registry, TODAY, NOW, NOW)
    assert (from_raw.county.points_sending, from_raw.county.points_online) == (8, 4)
    assert tiered == from_raw
