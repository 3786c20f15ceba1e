"""What the desk adds to an alarm as the API gives it: whether it sounds until signed, and the words of
its town, domain, colour and state for the list's filters, badges and columns."""

from __future__ import annotations

from hazmon.registry import Registry
from hazmon.registry.models import SITE_KIND_NAMES

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

