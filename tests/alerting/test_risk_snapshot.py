"""The periodic snapshot (``alerting_risk_snapshot_s``): after the clock passes the interval, InfluxDB
holds, at the snapshot's time, every enterprise's and tailings pond's colour and every alarm on the
desk (open or 待反馈), so dashboards that read only the last minutes find them however old."""

from __future__ import annotations

import pytest

from hazmon.registry import Registry, SiteKind
from hazmon.settings import Settings

from alerting.clock import ManualClock
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, query, transition

pytestmark = pytest.mark.servers


async def test_snapshot_writes_every_colour_and_desk_alarm(start_service, start_recorder, produce, names,
                                                           registry: Registry, alerting_settings: Settings) -> None:
    clock = ManualClock(T0)
    service = await start_service(clock)
    await start_recorder()                                 # alerting's lines reach InfluxDB through the recorder
    await produce(names.transitions, [
        transition("open-red", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
        transition("pond", "confirmed", "WK01_WL", level="high", value=5.0, limit=4.0, at=T0),
        transition("feedback", "confirmed", "TK01_PT", level="high_high", value=1.2, limit=1.1, at=T0),
        transition("feedback", "cleared", "TK01_PT", level="high_high", value=0.9, limit=1.1, at=T0 + 1000),
    ])
    await eventually(lambda: (a := service.book.get("feedback")) is not None and a.awaiting_feedback,
                     what="all folded, one 待反馈")
    await service.tick()                                   # the first tick starts the interval
    before = await query(alerting_settings, "SELECT * FROM enterprise_risk")
    assert all(r["time"] < T0 + 10_000 for r in before)    # so far only the changes
    now = clock.advance(alerting_settings.alerting_risk_snapshot_s + 1)   # escalations are stamped at T0 + 300 s
    await service.tick()

    async def risk_at_now() -> list[dict]:
        return await query(alerting_settings, f"SELECT * FROM enterprise_risk WHERE time = {now}ms")
    await eventually(lambda: _count(risk_at_now, len(registry.enterprises)), what="every enterprise in the snapshot")
    colours = {r["enterprise"]: r["color"] for r in await risk_at_now()}
    assert colours == {e: service.risk.current(e).color for e in registry.enterprises}
    assert (colours[CHEM], colours[FIRE]) == ("red", "blue") and colours[MINE] != "blue"

    ponds = await query(alerting_settings, f"SELECT * FROM site_risk WHERE time = {now}ms")
    pond_keys = {(e, s.id) for e, doc in registry.enterprises.items() for s in doc.sites if s.kind is SiteKind.TAILINGS_POND}
    assert {(r["enterprise"], r["site"]) for r in ponds} == pond_keys
    assert {r["site"]: r["color"] for r in ponds if r["enterprise"] == MINE}["WK01"] != "blue"

    alarms = await query(alerting_settings, f"SELECT * FROM alarm WHERE time = {now}ms")
    assert {(r["id"], r["state"], r["transition"], r["awaiting_feedback"]) for r in alarms} == {
        ("open-red", "active", "snapshot", None), ("pond", "active", "snapshot", None),
        ("feedback", "cleared", "snapshot", True)}

    later = clock.advance(alerting_settings.alerting_risk_snapshot_s - 1)
    await service.tick()                                   # not yet the next interval: nothing new
    assert await query(alerting_settings, f"SELECT * FROM enterprise_risk WHERE time = {later}ms") == []


async def _count(rows, expected: int) -> bool:
    return len(await rows()) == expected
