"""Years of alarms as the alarm topics hold them, for the restart tests and ``bench/alarm_record.py``.

Alarm ``i`` of ``count`` starts ``i`` steps after ``now - years``, so the first is the oldest; every
``open_every``-th alarm (the first among them) is still open, the others were acknowledged, cleared
by the data and closed with a note. Every third open alarm is second-level: acknowledged when its
index is a multiple of 20, otherwise escalated to the county and the prefecture at its due times.
"""

from __future__ import annotations

from hazmon.wire import ActionKind, AlarmAction, AlarmTransition, Transition

from alerting.escalation import ESCALATOR

YEAR_MS = 365 * 86_400_000
MIN_MS = 60_000


def _transition(alarm_id: str, kind: Transition, enterprise: str, point: str, level: str, started_at: int,
                at: int) -> AlarmTransition:
    return AlarmTransition(v=1, id=alarm_id, transition=kind, enterprise=enterprise, site="S1", device=f"D-{point}",
                           point=point, rule="limit", level=level, severity=2 if level == "high_high" else 1,
                           value=11.0 if kind != "cleared" else 9.0, limit=10.0, started_at=started_at, reading_ts=at,
                           emitted_ms=at, message=f"{point} 液位{'二级' if level == 'high_high' else '一级'}报警",
                           message_en=f"{point} level alarm")


def _action(kind: ActionKind, alarm_id: str, enterprise: str, ts: int, **fields: str | int) -> AlarmAction:
    return AlarmAction(v=1, action_id=f"history-{kind}-{alarm_id}-{fields.get('tier', 0)}", action=kind,
                       enterprise=enterprise, ts=ts, by=ESCALATOR if kind == "escalate" else "duty/历史值班", alarm=alarm_id,
                       **fields)  # type: ignore[typeddict-item]  # the action's own fields: comment, note, cause, measures, tier


def historic_log(count: int, now_ms: int, enterprises: list[str], *, years: float = 2.0,
                 open_every: int = 10) -> tuple[list[AlarmTransition], list[AlarmAction]]:
    """Transitions and actions of ``count`` alarms over ``years`` ending an hour before ``now_ms``."""
    first = now_ms - int(years * YEAR_MS)
    step = (now_ms - 60 * MIN_MS - first) // count
    transitions: list[AlarmTransition] = []
    actions: list[AlarmAction] = []
    for i in range(count):
        alarm_id, enterprise = f"h{i:06d}", enterprises[i % len(enterprises)]
        point, start = f"P{i % 50:02d}", first + i * step
        is_open = i % open_every == 0
        level = "high_high" if is_open and (i // open_every) % 3 == 0 else "high"
        transitions.append(_transition(alarm_id, "confirmed", enterprise, point, level, start, start))
        if not is_open:
            actions.append(_action("ack", alarm_id, enterprise, start + MIN_MS, comment="已安排处置"))
            transitions.append(_transition(alarm_id, "cleared", enterprise, point, level, start, start + 10 * MIN_MS))
            actions.append(_action("close", alarm_id, enterprise, start + 20 * MIN_MS, note="液位已恢复，原因已查明",
                                   cause="进料过量", measures="调整进料"))
        elif level == "high_high" and i % 20 == 0:
            actions.append(_action("ack", alarm_id, enterprise, start + MIN_MS, comment="长期监护"))
        elif level == "high_high":
            actions.append(_action("escalate", alarm_id, enterprise, start + 5 * MIN_MS, tier=1))
            actions.append(_action("escalate", alarm_id, enterprise, start + 15 * MIN_MS, tier=2))
    return transitions, actions
