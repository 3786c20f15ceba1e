"""§8 promises beyond the alarm windows, read plainly for the end-to-end tests: when a scenario's
causes are over, which escalation steps an unacknowledged alarm must have taken, whether a
de-escalation waited for the clear condition, and at least which risk colour an enterprise must
have shown.
"""

from __future__ import annotations

from collections import defaultdict

from alerting.model import SECOND_LEVELS, WARNING_RULES
from device_sim.scenario import (BadQuality, ClockSkew, ExpectedAlarm, Fire, Flood, Leak, Offline, OutOfOrder,
                                 OutOfRange, Ramp, Scenario, Spike, Step, Stuck)
from device_sim.stream import ScenarioRun
from hazmon.registry import Registry
from hazmon.registry.models import SiteKind
from tests.device_sim.truth_oracle import point_series

PLUME_TAIL = 5                                       # a leak has decayed after this many decay_s
OPEN = ("raised", "confirmed", "escalated", "deescalated")


def cause_ends_s(injection) -> float | None:
    """Scenario second after which ``injection`` no longer acts; None if it lasts (a flooded pond drains
    over days, a ramp or step without an end holds)."""
    if isinstance(injection, Flood):
        return None
    if isinstance(injection, Ramp):
        return injection.until_s
    if isinstance(injection, Leak):
        return injection.at_s + injection.rise_s + injection.hold_s + PLUME_TAIL * injection.decay_s
    if isinstance(injection, Fire):
        return None if injection.reset_after_s is None else injection.at_s + injection.reset_after_s
    if isinstance(injection, (Step, Spike, Stuck, OutOfRange, BadQuality, Offline, OutOfOrder, ClockSkew)):
        return None if injection.duration_s is None else injection.at_s + injection.duration_s
    return injection.at_s   # one message or event


def causes_over_s(scenario: Scenario) -> float | None:
    """When the last injection is over, or None if one never is."""
    ends = [cause_ends_s(i) for i in scenario.injections]
    return None if None in ends else max(ends, default=0.0)   # type: ignore[type-var]


def escalable(transition: dict) -> bool:
    """Open at a level §8 escalates when nobody acknowledges it: second level, red, or a fire."""
    return transition["transition"] in OPEN and (
        transition["rule"] == "fire" or (transition["rule"] not in WARNING_RULES and transition["level"] in SECOND_LEVELS))


def escalable_spans(transitions: list[dict], end_ms: int) -> dict[str, tuple[int, int]]:
    """Alarm id → (emitted when it first became escalable, emitted when it stopped being so or ``end_ms``).

    An escalable alarm the data cleared before anyone acknowledged it waits for a disposal note
    (待反馈, §8 rev 1.1) and goes on escalating: only a better level ends its span here (the caller
    ends it at the acknowledgement)."""
    spans: dict[str, tuple[int, int]] = {}
    by_id: dict[str, list[dict]] = defaultdict(list)
    for t in sorted(transitions, key=lambda t: t["emitted_ms"]):
        by_id[t["id"]].append(t)
    for alarm_id, changes in by_id.items():
        since = next((t["emitted_ms"] for t in changes if escalable(t)), None)
        if since is not None:
            until = next((t["emitted_ms"] for t in changes
                          if t["emitted_ms"] > since and not escalable(t) and t["transition"] != "cleared"), end_ms)
            spans[alarm_id] = (since, until)
    return spans


def early_deescalations(registry: Registry, run: ScenarioRun, transitions: list[dict]) -> tuple[int, list[str]]:
    """§8: a better level de-escalates a limit alarm only after the clear condition held: every reading
    of the ``confirm_s`` before the de-escalation back inside the left level's limit by ``deadband``.
    Returns how many de-escalations were judged and the ones made too early."""
    series = point_series(run)
    levels: dict[str, str] = {}
    judged, early = 0, []
    for t in sorted(transitions, key=lambda t: (t["reading_ts"], t["emitted_ms"])):
        left = levels.get(t["id"])
        levels[t["id"]] = t["level"]
        if t["transition"] != "deescalated" or t["rule"] != "limit" or left is None:
            continue
        entry = registry.point(t["enterprise"], t["point"])
        assert entry is not None
        limit = next(x for x in entry.limits.limits if x.level == left)
        s = series[(t["enterprise"], t["point"])]
        since = t["reading_ts"] - entry.limits.confirm_s * 1000
        window = s.values[(s.ts >= since) & (s.ts <= t["reading_ts"])]
        inside = window < limit.threshold - entry.limits.deadband if limit.direction == "above" \
            else window > limit.threshold + entry.limits.deadband
        judged += 1
        if s.ts.min() > since or not inside.all():
            early.append(f"{t['point']} {left} → {t['level']} at {t['reading_ts']}: {window.tolist()} against {limit}")
    return judged, early


def least_colour(registry: Registry, alarm: ExpectedAlarm) -> int:
    """The risk colour (0 blue … 3 red) an enterprise shows at least while ``alarm`` is open (§8)."""
    kinds = {name: e.site.kind for e in registry if e.enterprise == alarm.enterprise for name in (e.id, e.site.id)}
    if alarm.rule == "fire":
        return 3
    if alarm.rule in WARNING_RULES:
        return 1
    if alarm.level in SECOND_LEVELS and kinds.get(alarm.point or "") in (SiteKind.MAJOR_HAZARD, SiteKind.TAILINGS_POND):
        return 3
    if alarm.level == "orange" or alarm.level in SECOND_LEVELS:
        return 2
    return 0 if alarm.level == "blue" else 1
