"""What the desk adds to an alarm as the API gives it: whether it sounds until signed, and the words of
its town, domain, colour and state for the list's filters, badges and columns; and the live list's own JSON of
an alarm (:class:`ListItems`): only what the list shows and filters by, kept until the alarm changes, so that a
snapshot of 10 000 open alarms is their kept bytes joined."""

from __future__ import annotations

import orjson

from hazmon.registry import Registry
from hazmon.registry.models import SITE_KIND_NAMES
from hazmon.registry.names import point_name

from alerting.model import FIRST_LEVELS, SECOND_LEVELS, Alarm
from alerting.text import Texts

COLOURS = frozenset({"blue", "yellow", "orange", "red"})


def sounds(alarm: Alarm) -> bool:
    """Fire, red and second-level alarms sound and notify until someone signs for them (issue 17)."""
    return alarm.rule == "fire" or alarm.level in SECOND_LEVELS


def tone(alarm: Alarm) -> str:
    """The badge's colour class: fire, a colour of 红橙黄蓝, second or first level, or a warning."""
    if alarm.rule == "fire":
        return "fire"
    if alarm.level in COLOURS:
        return str(alarm.level)
    return "second" if alarm.level in SECOND_LEVELS else "first" if alarm.level in FIRST_LEVELS else "warning"


def desk_fields(alarm: Alarm, registry: Registry, texts: Texts) -> dict:
    """``{"sound": …, "desk": {"town", "domain", "tone", "state"}}`` to add to the alarm's API JSON."""
    doc = registry.enterprises.get(alarm.enterprise)
    site = next((s for s in doc.sites if s.id == alarm.site), None) if doc is not None else None
    domain = SITE_KIND_NAMES[site.kind][0 if texts.language == "zh" else 1] if site is not None else ""
    return {"sound": sounds(alarm),
            "desk": {"town": doc.enterprise.town if doc is not None else "", "domain": domain, "tone": tone(alarm),
                     "state": texts.state_word(alarm.state, alarm.awaiting_feedback)}}



class ListItems:
    """The live list's JSON of each open alarm: its codes for the page's logic (id, enterprise, rule, severity, state,
    times), ``rows`` in words (§10: message, kind, enterprise, site, point or device, start), and :func:`desk_fields`.
    Kept per alarm until its revision changes, for one registry and language (a reload starts afresh); a closed
    alarm is never kept."""

    def __init__(self) -> None:
        self._of: tuple[Registry, Texts] | None = None
        self._points: dict[tuple[str, str], str] = {}
        self._items: dict[str, tuple[int, bytes]] = {}

    def item(self, alarm: Alarm, registry: Registry, texts: Texts) -> bytes:
        if self._of is None or self._of[0] is not registry or self._of[1] is not texts:
            self._of, self._points, self._items = (registry, texts), {}, {}
        kept = self._items.get(alarm.id)
        if kept is not None and kept[0] == alarm.revision:
            return kept[1]
        body = orjson.dumps(self._fields(alarm, registry, texts))
        if alarm.state == "closed":
            self._items.pop(alarm.id, None)
        else:
            self._items[alarm.id] = (alarm.revision, body)
        return body

    def _point(self, registry: Registry, enterprise: str, point: str, language: str) -> str:
        key = (enterprise, point)
        if key not in self._points:
            entry = registry.point(enterprise, point)
            self._points[key] = point_name(registry, entry, language) if entry is not None else ""
        return self._points[key]

    def _fields(self, alarm: Alarm, registry: Registry, texts: Texts) -> dict:
        doc = registry.enterprises.get(alarm.enterprise)
        site = next((s.name for s in doc.sites if s.id == alarm.site), alarm.site) if doc is not None else alarm.site
        point = self._point(registry, alarm.enterprise, alarm.point, texts.language) if alarm.point else ""
        rows = {"message": texts.alarm_message(alarm.message, alarm.message_en),
                "severity": texts.severity(alarm.rule, alarm.level),
                "enterprise": doc.enterprise.name if doc is not None else "", "site": site, "point": point,
                "device": alarm.device if not alarm.point else "", "started_at": texts.moment(alarm.started_at)}
        return {"id": alarm.id, "enterprise": alarm.enterprise, "rule": alarm.rule, "severity": alarm.severity,
                "state": alarm.state, "started_at": alarm.started_at, "acked_at": alarm.acked_at,
                "awaiting_feedback": alarm.awaiting_feedback, "rows": {k: v for k, v in rows.items() if v},
                **desk_fields(alarm, registry, texts)}
