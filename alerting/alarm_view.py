"""An alarm as the duty desk reads it on the alarm page (data standard §10): enterprise, site and
point by name, the measured quantity, value and limit with units, device time, 超量程, a trend's
rate per hour and time to its limit, and who acted, in the service's language. The internal codes
(ids, rule, level) go only into ``details``, which the page shows folded, for whoever asks.

The words come from :mod:`alerting.text`, units and quantity names from the registry
(``POINT_UNITS``, ``POINT_TYPE_NAMES``), the same that the rule engine's texts use.
"""

from __future__ import annotations

from hazmon.registry import Registry
from hazmon.registry.models import POINT_TYPE_NAMES, POINT_UNITS
from hazmon.registry.names import device_name, point_name
from hazmon.wire import PLATFORM_ENTERPRISE

from alerting.model import Alarm
from alerting.text import Texts

Row = dict[str, str]


def _number(value: float, unit: str) -> str:
    return f"{value:.6g} {unit}".rstrip()


def alarm_view(alarm: Alarm, registry: Registry, texts: Texts, suppression: dict | None) -> dict:
    """``{"state": …, "rows": [{"field", "label", "text"}], "details": [...]}`` for the alarm page."""
    zh = texts.language == "zh"
    rows: list[tuple[str, str]] = []

    def add(field: str, text: object) -> None:
        if text not in (None, ""):
            rows.append((field, str(text)))

    doc = registry.enterprises.get(alarm.enterprise)
    enterprise_name = doc.enterprise.name if doc is not None else alarm.enterprise
    site = next((s for s in doc.sites if s.id == alarm.site), None) if doc is not None else None
    entry = registry.point(alarm.enterprise, alarm.point)
    unit = POINT_UNITS[entry.point.type] if entry is not None else ""
    add("message", texts.alarm_message(alarm.message, alarm.message_en))
    add("severity", texts.severity(alarm.rule, alarm.level))
    if alarm.enterprise != PLATFORM_ENTERPRISE:   # the platform's own data outage belongs to no enterprise
        add("enterprise", enterprise_name)
    add("site", site.name if site is not None else alarm.site)
    if entry is not None:
        quantity = POINT_TYPE_NAMES[entry.point.type][0 if zh else 1]
        add("point", point_name(registry, entry, texts.language))
        add("quantity", quantity)
    elif alarm.device and not alarm.point:   # a device's alarm: the device by what it reports, never its id
        reporting = [e for e in registry.devices(alarm.enterprise).get(alarm.device, []) if e.point.enabled]
        add("device", device_name(registry, reporting, texts.language) if reporting else None)
    if alarm.value is not None:
        value = _number(alarm.value, unit)
        add("value", texts.over_range(value) if alarm.extra.get("reason") == "over_range" else value)
    rate_limited = alarm.rule == "trend" and alarm.level is None
    if alarm.limit is not None:
        add("rate_limit" if rate_limited else "limit", _number(alarm.limit, f"{unit}/h" if rate_limited else unit))
    slope, eta, next_level = (alarm.extra.get(key) for key in ("slope_per_h", "time_to_limit_s", "next_level"))
    if isinstance(slope, int | float):
        add("rate", _number(slope, f"{unit}/h"))
    if isinstance(eta, int | float) and next_level:
        add("time_to_limit", texts.time_to_limit(eta, str(next_level)))
    if alarm.reading_ts is not None:
        add("reading_ts", texts.moment(alarm.reading_ts))
    add("started_at", texts.moment(alarm.started_at))
    if alarm.escalation:
        add("escalated_to", texts.tier(alarm.escalation))
    if suppression is not None:
        add("suppression", f"{suppression['reason']} → {texts.moment(suppression['expires_at'])}")
    for field in ("acked", "closed"):
        if getattr(alarm, f"{field}_by"):
            add(f"{field}_by", texts.actor(getattr(alarm, f"{field}_by"), enterprise_name))
            add(f"{field}_at", texts.moment(getattr(alarm, f"{field}_at")))
    add("ack_comment", alarm.ack_comment)
    add("close_note", alarm.close_note)
    add("close_cause", texts.cause(alarm.close_cause) if alarm.close_cause else None)
    add("close_measures", alarm.close_measures)
    codes = {"id": alarm.id, "enterprise": alarm.enterprise, "site": alarm.site, "device": alarm.device,
             "point": alarm.point, "rule": alarm.rule, "level": alarm.level or ""}
    return {"state": texts.state(alarm.state, alarm.awaiting_feedback),
            "rows": [{"field": field, "label": texts.label(field), "text": text} for field, text in rows],
            "details_label": texts.label("details"),
            "details": [{"field": key, "text": value} for key, value in codes.items() if value]}
