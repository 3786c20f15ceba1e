"""InfluxDB line protocol for the measurements of data standard §9, timestamps in milliseconds.

Each point's measurement, tags and timestamp are chosen so that writing the same record again
overwrites the same point: a replay after a crash duplicates nothing.
"""

from __future__ import annotations

import math

from alerting.model import Alarm
from alerting.risk import RiskColor

_TAG_ESCAPES = str.maketrans({",": r"\,", " ": r"\ ", "=": r"\="})


def tag(value: str) -> str:
    return value.translate(_TAG_ESCAPES) if value else "-"


def string_field(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def number_field(value: float) -> str:
    return repr(float(value))


def reading_prefix(enterprise: str, site: str, point: str, point_type: str) -> str:
    """Measurement and tags of one point's readings; computed once per point, reused per reading."""
    return f"reading,enterprise={tag(enterprise)},point={tag(point)},site={tag(site)},type={tag(point_type)} value="


def reading_lines(prefix: str, ts: list[int], values: list[float]) -> list[str]:
    """``reading`` lines of one point (used by the dashboards' tests to write a simulated county)."""
    return [f"{prefix}{v!r} {t}" for t, v in zip(ts, values) if math.isfinite(v)]


def alarm_line(alarm: Alarm, kind: str, ts: int, by: str | None) -> str:
    """One alarm record: the alarm as it stands after the change ``kind`` at ``ts``.

    Fields beyond §9 (documented in docs/alerting.md): ``transition``, ``escalation``, ``by``,
    ``started_at``, on closed records ``note`` (the disposal note) and, on a 待反馈 alarm's records,
    ``awaiting_feedback=true``. Kind ``snapshot`` is the periodic record of an alarm still on the desk.
    """
    fields = [f"id={string_field(alarm.id)}", f"message={string_field(alarm.message)}",
              f"transition={string_field(kind)}", f"escalation={alarm.escalation}i", f"started_at={alarm.started_at}i"]
    if alarm.awaiting_feedback:
        fields.append("awaiting_feedback=true")
    if alarm.close_note is not None:
        fields.append(f"note={string_field(alarm.close_note)}")
    if alarm.value is not None and math.isfinite(alarm.value):
        fields.append(f"value={number_field(alarm.value)}")
    if alarm.limit is not None and math.isfinite(alarm.limit):
        fields.append(f"limit={number_field(alarm.limit)}")
    if by:
        fields.append(f"by={string_field(by)}")
    return f"{alarm_series(alarm)} {','.join(fields)} {ts}"


def alarm_series(alarm: Alarm) -> str:
    """Measurement and tags of ``alarm``'s record as it stands: with the time, an InfluxDB point's key."""
    return (f"alarm,enterprise={tag(alarm.enterprise)},level={tag(alarm.level or '')},point={tag(alarm.point)},"
            f"rule={tag(alarm.rule)},site={tag(alarm.site)},state={tag(alarm.state)}")


def enterprise_risk_line(enterprise: str, risk: RiskColor, ts: int) -> str:
    return (f"enterprise_risk,enterprise={tag(enterprise)} level={risk.level}i,"
            f"color={string_field(risk.color)},active_alarms={risk.active_alarms}i {ts}")


def site_risk_line(enterprise: str, site: str, risk: RiskColor, ts: int) -> str:
    """Tailings pond colour (extension of §9: measurement ``site_risk``)."""
    return (f"site_risk,enterprise={tag(enterprise)},site={tag(site)} level={risk.level}i,"
            f"color={string_field(risk.color)},active_alarms={risk.active_alarms}i {ts}")


def pipeline_line(component: str, ts: int, **fields: int | float) -> str:
    """Platform health counters (measurement ``pipeline`` defined by docs/dashboards.md)."""
    values = ",".join(f"{k}={v}i" if isinstance(v, int) else f"{k}={number_field(v)}" for k, v in sorted(fields.items()))
    return f"pipeline,component={tag(component)} {values} {ts}"


def ingest_stats_line(stats: dict) -> str:
    """Platform counters per enterprise and window (extension of §9: measurement ``platform_ingest``)."""
    fields = [f"{name}={int(stats.get(name, 0))}i" for name in ("accepted", "duplicates", "gaps")]
    fields += [f"refused_{reason}={int(n)}i" for reason, n in sorted((stats.get("refused") or {}).items())]
    return f"platform_ingest,enterprise={tag(stats['enterprise'])} {','.join(fields)} {int(stats['window_end_ms'])}"
