"""Line protocol of alerting's own records (data standard §9: ``alarm``, ``enterprise_risk``, ``site_risk``),
timestamps in milliseconds; names and escaping are the shared contract of :mod:`hazmon.series`.

Each point's measurement, tags and timestamp are chosen so that writing the same record again
overwrites the same point: a replay after a crash duplicates nothing.
"""

from __future__ import annotations

import math

from hazmon.series import ALARM, ENTERPRISE_RISK, SITE_RISK, number_field, string_field, tag

from alerting.model import Alarm
from alerting.risk import RiskColor


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
    return (f"{ALARM},enterprise={tag(alarm.enterprise)},level={tag(alarm.level or '')},point={tag(alarm.point)},"
            f"rule={tag(alarm.rule)},site={tag(alarm.site)},state={tag(alarm.state)}")


def enterprise_risk_line(enterprise: str, risk: RiskColor, ts: int) -> str:
    return (f"{ENTERPRISE_RISK},enterprise={tag(enterprise)} level={risk.level}i,"
            f"color={string_field(risk.color)},active_alarms={risk.active_alarms}i {ts}")


def site_risk_line(enterprise: str, site: str, risk: RiskColor, ts: int) -> str:
    """Tailings pond colour (extension of §9: measurement ``site_risk``)."""
    return (f"{SITE_RISK},enterprise={tag(enterprise)},site={tag(site)} level={risk.level}i,"
            f"color={string_field(risk.color)},active_alarms={risk.active_alarms}i {ts}")
