"""A small simulated county in InfluxDB: what the platform writes after readings, alarms and their
handling, through the shared time-series contract (hazmon.series), alerting's line protocol and the recorder's InfluxDB writer.
"""

from __future__ import annotations

import time

from hazmon import series, topics, wire
from hazmon.registry import Registry, SiteKind
from hazmon.registry.models import PointType
from hazmon.settings import Settings

from alerting import lineproto
from recorder.influx import InfluxWriter
from alerting.model import Alarm
from alerting.risk import RiskColor
from dashboards.locations import location_lines, name_lines

MINUTE = 60_000


def reading_lines(registry: Registry, now: int) -> list[str]:
    lines = []
    for entry in registry:
        if entry.point.type is PointType.FIRE_DETECTOR:
            continue
        low, high = entry.point.range
        prefix = series.reading_prefix(entry.enterprise, entry.site.id, entry.point.id, entry.point.type.value)
        ts = [now - (20 - i) * MINUTE for i in range(20)]
        lines += series.reading_lines(prefix, ts, [low + (high - low) * (0.3 + 0.01 * i) for i in range(20)])
    return lines


def _alarm(registry: Registry, enterprise: str, point: str, rule: str, level: str | None, started_at: int) -> Alarm:
    entry = registry.point(enterprise, point)
    assert entry is not None, point
    return Alarm(id=f"{point}-{rule}-{started_at}", enterprise=enterprise, site=entry.site.id, device=entry.point.device,
                 point=point, rule=rule, level=level, severity=2, value=1.0, limit=0.5, started_at=started_at,
                 message=f"{point} {rule} {level}", message_en=f"{point} {rule} {level}")


def _enterprise_with(registry: Registry, kind: SiteKind) -> str:
    return next(eid for eid, doc in sorted(registry.enterprises.items()) if any(s.kind is kind for s in doc.sites))


def alarm_lines(registry: Registry, now: int) -> list[str]:
    """A life of each kind: escalated and acknowledged, closed with a note, immediate fire and offline."""
    t0 = now - 15 * MINUTE
    chem, mine, fire = (_enterprise_with(registry, kind) for kind in
                        (SiteKind.MAJOR_HAZARD, SiteKind.TAILINGS_POND, SiteKind.FIRE_UNIT))
    lines = []

    def write(alarm: Alarm, kind: str, ts: int, by: str | None = None) -> None:
        alarm.updated_at = ts
        lines.append(lineproto.alarm_line(alarm, kind, ts, by))

    tank = _alarm(registry, chem, "TK01_LT", "limit", "high", t0)
    write(tank, "raised", t0)
    tank.confirmed = True
    write(tank, "confirmed", t0 + MINUTE)
    tank.level = "high_high"
    write(tank, "escalated", t0 + 2 * MINUTE)
    tank.acked_by, tank.acked_at = "duty", t0 + 4 * MINUTE
    write(tank, "acknowledged", t0 + 4 * MINUTE, "duty")

    pond = _alarm(registry, mine, "WK01_WL", "limit", "orange", t0)
    pond.confirmed = True
    write(pond, "confirmed", t0 + 3 * MINUTE)
    offline = _alarm(registry, mine, "WK01_RAIN", "offline", None, t0)
    write(offline, "raised", t0 + 5 * MINUTE)

    detector = _alarm(registry, fire, "FAC1_Z07", "fire", None, t0)
    write(detector, "raised", t0 + 6 * MINUTE)
    tank_low = _alarm(registry, fire, "BLD1_TANK", "limit", "low", t0)
    write(tank_low, "confirmed", t0 + MINUTE)
    tank_low.acked_by, tank_low.acked_at = "duty", t0 + 2 * MINUTE
    write(tank_low, "acknowledged", t0 + 2 * MINUTE, "duty")
    tank_low.data_cleared, tank_low.cleared_at = True, t0 + 3 * MINUTE
    write(tank_low, "cleared", t0 + 3 * MINUTE)
    tank_low.closed_by, tank_low.closed_at, tank_low.close_note = "duty", t0 + 4 * MINUTE, "补水阀故障，已更换"
    write(tank_low, "closed", t0 + 4 * MINUTE, "duty")

    lines += [lineproto.enterprise_risk_line(e, RiskColor(level, level), now - MINUTE)
              for level, e in enumerate(sorted(registry.enterprises))]
    lines.append(lineproto.site_risk_line(mine, pond.site, RiskColor(2, 1), now - MINUTE))
    return lines


def platform_lines(registry: Registry, now: int) -> list[str]:
    lines = [series.ingest_stats_line({"enterprise": e, "window_end_ms": now - i * MINUTE, "accepted": 100 + i,
                                          "duplicates": 1, "gaps": i % 2, "refused": {"bad_value": 2, "unknown_point": 1}})
             for e in sorted(registry.enterprises) for i in range(5)]
    for i in range(5):
        ts = now - i * MINUTE
        lines += [line for record in pipeline_records(ts, i) for line in series.pipeline_lines(record)]
    return lines


def pipeline_records(ts: int, i: int) -> list[wire.PipelineMetrics]:
    """What ingest, the rules worker, alerting and the recorder report for one period (wire.PipelineMetrics)."""
    def lags(topic: str, lag: int) -> list[wire.PartitionLag]:
        return [wire.PartitionLag(topic=topic, partition=p, lag=lag + p) for p in range(3)]
    latency = wire.latency_of([40.0 + i, 60.0 + i, 900.0])
    return [wire.PipelineMetrics(v=1, component="ingest", instance="ingest-1", ts=ts, lags=[],
                                 gauges={series.IN_FLIGHT: float(i)}, latency=latency),
            wire.PipelineMetrics(v=1, component="rules", instance="rules-1", ts=ts, lags=lags(topics.READINGS, i),
                                 latency=latency),
            wire.PipelineMetrics(v=1, component="alerting", instance="alerting-1", ts=ts,
                                 lags=lags(topics.ALARM_TRANSITIONS, 0)),
            wire.PipelineMetrics(v=1, component="recorder", instance="recorder-1", ts=ts, lags=lags(topics.READINGS, 2 * i),
                                 gauges={series.INFLUX_QUEUE: 10.0 * i, series.POINTS_PER_S: 5000.0 + i})]


def assessment_lines(registry: Registry, now: int) -> list[str]:
    """考核指标 of the county, each town and each enterprise (alerting/desk/assessment_series.py's lines), stamped
    within the last hour so that the generic check's range finds them (a day's point is stamped at the day's start)."""
    figures = {series.ALARMS: 4, series.SIGN_IN_TIME_RATE: 0.5, series.DISPOSAL_RATE: 0.75, series.FALSE_ALARM_RATE: 0.25,
               series.MINUTES_TO_SIGN: 3.5, series.MINUTES_TO_CLOSE: 42.0, series.NETWORK_RATE: 0.9,
               series.ONLINE_RATE: 0.8, series.POINTS: 10, series.POINTS_SENDING: 9, series.POINTS_ONLINE: 8}
    ts = now - MINUTE
    towns = sorted({doc.enterprise.town for doc in registry.enterprises.values()})
    return ([series.assessment_line(series.COUNTY_SCOPE, "", "", "全县", figures, ts)]
            + [series.assessment_line(series.TOWN_SCOPE, town, "", town, figures, ts) for town in towns]
            + [series.assessment_line(series.ENTERPRISE_SCOPE, doc.enterprise.town, eid, doc.enterprise.name, figures, ts)
               for eid, doc in sorted(registry.enterprises.items())])


async def seed_county(settings: Settings, database: str, registry: Registry) -> int:
    """Create ``database`` and write the county into it with the recorder's InfluxDB writer; returns the point count."""
    now = int(time.time() * 1000)
    lines = [*reading_lines(registry, now), *alarm_lines(registry, now), *platform_lines(registry, now),
             *location_lines(registry, now), *name_lines(registry, now), *assessment_lines(registry, now)]
    await write_lines(settings, database, lines)
    return len(lines)


async def write_lines(settings: Settings, database: str, lines: list[str]) -> None:
    """Create ``database`` and write ``lines`` into it with the recorder's InfluxDB writer."""
    writer = InfluxWriter(settings, database=database)
    try:
        await writer.ensure_database()
        await writer.write(lines)
    finally:
        await writer.close()
