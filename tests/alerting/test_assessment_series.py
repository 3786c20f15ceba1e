"""A real alerting service and recorder put the 考核指标 into InfluxDB (issue 17): every ``desk_assessment_s`` the
figures of the day of the service's clock, stamped with that Beijing day's start, for the county, each town and each
enterprise by name, as the Grafana board 考核指标 reads them."""

from __future__ import annotations

import pytest

from hazmon.registry import Registry
from hazmon.settings import Settings

from alerting.clock import ManualClock
from alerting.desk.assessment_series import day_start_ms
from testbed.alerting import CHEM, MINE, T0, eventually, query, transition

pytestmark = pytest.mark.servers


async def test_alerting_writes_the_days_figures_through_the_recorder(start_service, start_recorder, produce, names,
                                                                      registry: Registry, alerting_settings: Settings) -> None:
    settings = alerting_settings.model_copy(update={"desk_assessment_s": 0.5})
    await start_recorder()
    await produce(names.transitions, [transition("tank", "confirmed", "TK01_LT", at=T0),
                                      transition("pond", "confirmed", "WK01_WL", at=T0 + 1000)])
    service = await start_service(ManualClock(T0 + 60_000), settings)
    await eventually(lambda: len(service.book.alarms) == 2, what="both alarms folded")
    day = day_start_ms(T0)

    async def county_counts_both() -> bool:
        rows = await query(settings, f"SELECT * FROM assessment WHERE time = {day}ms AND \"scope\" = 'county'")
        return bool(rows) and rows[0]["alarms"] == 2
    await eventually(county_counts_both, what="the day's county figures with both alarms")

    rows = await query(settings, f"SELECT * FROM assessment WHERE time = {day}ms AND \"scope\" = 'enterprise'")
    by_name = {r["name"]: r for r in rows}
    assert set(by_name) == {doc.enterprise.name for doc in registry.enterprises.values()}   # names, not codes (§10)
    for enterprise in (CHEM, MINE):
        row = by_name[registry.enterprises[enterprise].enterprise.name]
        assert (row["enterprise"], row["alarms"], row["sign_in_time_rate"]) == (enterprise, 1, 0.0)   # not signed
    towns = await query(settings, f"SELECT * FROM assessment WHERE time = {day}ms AND \"scope\" = 'town'")
    assert {r["name"] for r in towns} == {doc.enterprise.town for doc in registry.enterprises.values()}
    before = await query(settings, f"SELECT * FROM assessment WHERE time = {day - 86_400_000}ms AND \"scope\" = 'county'")
    assert [r["alarms"] for r in before] == [0]           # the day before's final figures, written at the start
