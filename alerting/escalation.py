"""Escalation of unacknowledged second-level, red and fire alarms (data standard §8).

An alarm that nobody acknowledged goes from the enterprise to the county duty desk after
``alerting_escalate_county_s`` and to the prefecture (州) after ``alerting_escalate_prefecture_s``,
counted from when it became second-level/red/fire; a step that falls due while the point is
suppressed (屏蔽) falls due when the suppression expires instead. Each step is an action at its due time (not at
the moment it was noticed), so every instance and every replay records the same step.
"""

from __future__ import annotations

import uuid

from hazmon.wire import AlarmAction

from alerting.book import AlarmBook

ESCALATOR = "system:escalation"


def due_escalations(book: AlarmBook, now_ms: int, delays_ms: tuple[int, int]) -> list[AlarmAction]:
    """The escalation steps due at ``now_ms`` and not yet taken, one per alarm and tier."""
    due: list[AlarmAction] = []
    for alarm in book.alarms.values():
        if not alarm.needs_escalation_watch:
            continue
        assert alarm.escalable_since is not None
        for tier, delay_ms in enumerate(delays_ms, start=1):
            at = alarm.escalable_since + delay_ms
            suppression = book.suppression_at(alarm, at)
            if suppression is not None:
                at = suppression.expires_at   # held while the point is under maintenance, due when it ends
            if tier > alarm.escalation and at <= now_ms:
                due.append(AlarmAction(v=1, action_id=_step_id(alarm.id, tier), action="escalate",
                                       enterprise=alarm.enterprise, ts=at, by=ESCALATOR,
                                       alarm=alarm.id, tier=tier))
    return due


def _step_id(alarm_id: str, tier: int) -> str:
    """The same id for the same step on every instance, so that duplicates are recognisable."""
    return str(uuid.uuid5(uuid.NAMESPACE_URL, f"hazmon-escalation/{alarm_id}/{tier}"))
