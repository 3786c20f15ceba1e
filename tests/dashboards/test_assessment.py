"""The 考核指标 board on the real InfluxDB reads what alerting writes (issue 17): readings of the sample county in
InfluxDB and a day's alarms, the figures computed and written as alerting's AssessmentSeries makes them (its lines,
with 联网率 and 在线率 read from that InfluxDB), and every panel's query returning those figures by county, town and
enterprise, named as officers read them (§10), never by id."""

from __future__ import annotations

import time

import aiohttp
import pytest

from dashboards.boards import assessment
from hazmon import series
from hazmon.registry import Registry
from hazmon.settings import Settings

from alerting.desk.assessment_series import AssessmentSeries, day_start_ms
from alerting.desk.readings import Readings
from alerting.model import FALSE_ALARM, Alarm
from tests.dashboards.county import write_lines
from tests.dashboards.support import all_panels
from tests.dashboards.test_queries_influx import grafana_interpolate

pytestmark = pytest.mark.servers
MINUTE = 60_000
CHEM, MINE = "91433127MA4CHEM001", "91433127MA4MINE002"
RANGE = {"$timeFilter": "time > now() - 3d"}    # yesterday's and today's points (each stamped at its day's start)


def day_alarms(registry: Registry, now: int) -> list[Alarm]:
    """Today's: one of CHEM signed in 2 min and closed as 误报, one of MINE never signed."""
    start = max(day_start_ms(now), now - 3_600_000)

    def alarm(enterprise: str, point: str, n: int) -> Alarm:
        entry = registry.point(enterprise, point)
        assert entry is not None
        return Alarm(id=f"a{n}", enterprise=enterprise, site=entry.site.id, device=entry.point.device, point=point,
                     rule="limit", level="high", severity=1, value=1.0, limit=0.5, started_at=start + n, message="m",
                     message_en="m")

    signed = alarm(CHEM, "TK01_LT", 1)
    signed.acked_at, signed.closed_at, signed.close_note, signed.close_cause = start + 2 * MINUTE, start + 30 * MINUTE, "误报", FALSE_ALARM
    return [signed, alarm(MINE, "WK01_WL", 2)]


async def rows(settings: Settings, database: str, query: str) -> list[dict]:
    async with aiohttp.ClientSession() as http, http.get(f"{settings.influx_url}/query", params={
            "db": database, "q": grafana_interpolate(query, RANGE), "epoch": "ms"}) as response:
        result = (await response.json())["results"][0]
    assert "error" not in result, result
    return [{**one.get("tags", {}), **dict(zip(one["columns"], row))} for one in result.get("series", []) for row in one["values"]]


async def test_the_board_shows_the_figures_alerting_wrote(influxdb: Settings, database: str, registry: Registry,
                                                          models: dict[str, dict]) -> None:
    now = int(time.time() * 1000)
    chem_points = [e for e in registry if e.enterprise == CHEM and e.point.type.value != "fire_detector"]
    await write_lines(influxdb, database, [line for e in chem_points for line in series.reading_lines(
        series.reading_prefix(CHEM, e.site.id, e.point.id, e.point.type.value), [now - 1000], [1.0])])
    alarms = day_alarms(registry, now)

    async def started(start: int, end: int) -> list[Alarm]:
        return [a for a in alarms if start <= a.started_at < end]

    written: list[str] = []
    figures = AssessmentSeries(started, lambda: registry, Readings(influxdb.influx_url, influxdb.influx_headers, database),
                               lambda: "zh", written.extend, lambda: now)
    await figures.write()
    await write_lines(influxdb, database, written)

    board = models[assessment.UID]
    targets = {panel["title"]: panel["targets"][0] for panel in all_panels(board) if panel.get("targets")}
    county = await rows(influxdb, database, targets["全县考核指标（每日）"]["query"])
    today = next(r for r in county if r["time"] == day_start_ms(now))
    assert (today["签收及时率（5分钟内）"], today["处置率"], today["误报率"]) == (0.5, 0.5, 1.0)
    reading_points = sum(e.point.type.value != "fire_detector" for e in registry)
    assert today["联网率"] == pytest.approx(len(chem_points) / reading_points) and today["在线率"] == today["联网率"]
    assert [r["time"] for r in county] == [day_start_ms(now) - 86_400_000, day_start_ms(now)]   # yesterday's final too

    towns = {doc.enterprise.town for doc in registry.enterprises.values()}
    by_town = await rows(influxdb, database, targets["签收及时率（5分钟内）（按乡镇）"]["query"])
    assert {r["name"] for r in by_town if r["sign_in_time_rate"] is not None} == \
        {registry.enterprises[e].enterprise.town for e in (CHEM, MINE)}
    assert {r["name"] for r in await rows(influxdb, database, targets["在线率（按乡镇）"]["query"])} == towns

    table = {r["name"]: r for r in await rows(influxdb, database, targets["企业考核指标（所选时段最后一日）"]["query"])}
    names = {e: doc.enterprise.name for e, doc in registry.enterprises.items()}
    assert set(table) == set(names.values())                # names, never the 18-character codes (§10)
    chem = table[names[CHEM]]
    assert (chem["alarms"], chem["sign_in_time_rate"], chem["false_alarm_rate"], chem["mean_minutes_to_sign"]) == (1, 1.0, 1.0, 2.0)
    assert chem["network_rate"] == 1.0 and table[names[MINE]]["sign_in_time_rate"] == 0.0

    for panel in all_panels(board):                         # every legend by name: the alias names a tag each query groups by
        for target in panel.get("targets", []):
            assert await rows(influxdb, database, target["query"]), panel["title"]
            assert target.get("alias") in (None, "$col", assessment.BY_NAME)
