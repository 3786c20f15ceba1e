"""Readings written later than the continuous queries look back are aggregated by the writer itself
(recorder.late_readings, docs/timeseries.md): on the real InfluxDB for the enterprise they belong to, and
the spans noted from the lines as written."""

from __future__ import annotations

import time

import pytest

from hazmon.series import HOUR_POLICY, MINUTE_POLICY
from hazmon.settings import Settings

from recorder.influx import InfluxWriter
from recorder.late_readings import LATE_MS, LateSpans
from tests.foundation.test_influx_retention import query, reading

MINUTE_MS = 60_000
HOUR_MS = 3_600_000
DAY_MS = 86_400_000
NOW = 1_800_000_000_000


def test_only_late_readings_within_the_retention_are_noted_per_enterprise() -> None:
    spans = LateSpans(keep_ms=90 * DAY_MS)
    spans.note([f"reading,enterprise=E1,point=P1,site=S1,type=pressure value=1.0 {NOW - 10_000}",        # in time
                f"reading,enterprise=E1,point=P1,site=S1,type=pressure value=1.0 {NOW - LATE_MS - 1}",
                f"reading,enterprise=E1,point=P2,site=S1,type=pressure value=1.0 {NOW - HOUR_MS}",
                f"reading,enterprise=E\\,2,point=P1,site=S1,type=pressure value=1.0 {NOW - 2 * HOUR_MS}",
                f"reading,enterprise=E3,point=P1,site=S1,type=pressure value=1.0 {NOW - 91 * DAY_MS}"],  # dropped by InfluxDB
               NOW)
    assert spans.drain() == {"E1": (NOW - HOUR_MS, NOW - LATE_MS - 1), "E,2": (NOW - 2 * HOUR_MS, NOW - 2 * HOUR_MS)}
    assert spans.drain() == {}
    spans.keep({"E1": (5, 9)})
    spans.keep({"E1": (3, 6)})
    assert spans.drain() == {"E1": (3, 9)}


@pytest.mark.servers
async def test_a_late_backlog_is_aggregated_by_the_writer(influxdb: Settings, database: str) -> None:
    hour = (int(time.time() * 1000) // HOUR_MS - 3) * HOUR_MS       # three hours ago: past both continuous queries
    backlog = [(hour + 5_000, 2.0), (hour + 35_000, 4.0), (hour + 30 * MINUTE_MS, 9.0)]
    writer = InfluxWriter(influxdb, database=database)
    try:
        await writer.write([reading("P1", value, ts) for ts, value in backlog])
        await writer.aggregate_late()
    finally:
        await writer.close()
    fields = '"value", "min", "max", "sum", "count"'
    minutes = await query(influxdb, database, f'SELECT {fields} FROM "{MINUTE_POLICY}"."reading" GROUP BY *')
    assert [(r["time"], r["enterprise"], r["value"], r["min"], r["max"], r["sum"], r["count"]) for r in minutes] == [
        (hour, "E1", 3.0, 2.0, 4.0, 6.0, 2), (hour + 30 * MINUTE_MS, "E1", 9.0, 9.0, 9.0, 9.0, 1)]
    hours = await query(influxdb, database, f'SELECT {fields} FROM "{HOUR_POLICY}"."reading" GROUP BY *')
    assert [(r["time"], r["point"], r["value"], r["min"], r["max"], r["sum"], r["count"]) for r in hours] == [
        (hour, "P1", 5.0, 2.0, 9.0, 15.0, 3)]
