"""Dashboards without a horizon: an alarm opened 40 days ago, a 待反馈 alarm and an enterprise red for
40 days are on the desk and the overview, on the real InfluxDB, because alerting writes them again
every ``alerting_risk_snapshot_s`` and the panels read the last ``CURRENT_LOOKBACK`` only."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator

import aiohttp
import pytest

from hazmon.registry import Registry, SiteKind
from hazmon.settings import Settings

from alerting import lineproto
from alerting.risk import RiskColor
from dashboards.boards import alarm_desk, overview
from tests.dashboards.county import _alarm, _enterprise_with, write_lines
from tests.dashboards.support import all_panels
from tests.dashboards.test_queries_influx import grafana_interpolate, run

pytestmark = pytest.mark.servers
MINUTE = 60_000
DAY = 24 * 60 * MINUTE


@pytest.fixture
async def old_county(influxdb: Settings, registry: Registry, unique: str) -> AsyncIterator[tuple[str, str]]:
    """Alarms opened 40 days ago (one open, one 待反馈, one closed then) and a red colour since then,
    with the snapshot alerting wrote two minutes ago; returns the database and the enterprise."""
    database = f"hz_horizon_{unique}"
    now = int(time.time() * 1000)
    then = now - 40 * DAY
    chem = _enterprise_with(registry, SiteKind.MAJOR_HAZARD)
    old = _alarm(registry, chem, "TK01_LT", "limit", "high_high", then)
    feedback = _alarm(registry, chem, "TK01_PT", "limit", "high_high", then)
    closed = _alarm(registry, chem, "TK01_TT", "limit", "high", then)
    for alarm in (old, feedback, closed):
        alarm.confirmed = True
    lines = [lineproto.alarm_line(a, "confirmed", then, None) for a in (old, feedback, closed)]
    feedback.data_cleared, feedback.awaiting_feedback = True, True
    lines.append(lineproto.alarm_line(feedback, "cleared", then + MINUTE, None))
    closed.data_cleared, closed.closed_at, closed.close_note = True, then + 2 * MINUTE, "处置完毕"
    lines.append(lineproto.alarm_line(closed, "closed", then + 2 * MINUTE, "duty"))
    red = RiskColor(3, 2)
    lines.append(lineproto.enterprise_risk_line(chem, red, then))
    snapshot = now - 2 * MINUTE                     # what alerting's periodic snapshot writes
    lines += [lineproto.alarm_line(a, "snapshot", snapshot, None) for a in (old, feedback)]
    lines.append(lineproto.enterprise_risk_line(chem, red, snapshot))
    await write_lines(influxdb, database, lines)
    yield database, chem
    async with aiohttp.ClientSession() as session:
        await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{database}"'})


async def test_an_alarm_opened_40_days_ago_is_still_on_the_desk(influxdb: Settings, old_county: tuple[str, str],
                                                                 models: dict[str, dict]) -> None:
    database, _ = old_county
    table = next(p for p in all_panels(models[alarm_desk.UID]) if p["type"] == "table")
    result = await run(influxdb, database, grafana_interpolate(table["targets"][0]["query"]))   # range: last hour
    rows = {s["tags"]["point"]: dict(zip(s["columns"], s["values"][0], strict=True)) for s in result["series"]}
    assert set(rows) == {"TK01_LT", "TK01_PT"}                  # the one closed 40 days ago is not
    assert (rows["TK01_LT"]["state"], rows["TK01_LT"]["awaiting_feedback"]) == ("active", None)
    assert (rows["TK01_PT"]["state"], rows["TK01_PT"]["awaiting_feedback"]) == ("cleared", True)
    assert rows["TK01_LT"]["started_at"] == rows["TK01_PT"]["started_at"] < time.time() * 1000 - 39 * DAY


async def test_an_enterprise_red_for_40_days_is_red_on_the_overview(influxdb: Settings, old_county: tuple[str, str]) -> None:
    database, chem = old_county
    result = await run(influxdb, database, overview.RISK_QUERY)
    colours = {s["tags"]["enterprise"]: dict(zip(s["columns"], s["values"][0], strict=True)) for s in result["series"]}
    assert (colours[chem]["level"], colours[chem]["color"]) == (3, "red")
