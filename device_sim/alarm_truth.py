"""Judge the alarms a platform opened against a field county's ground truth (``device_sim.field``).

An alarm is one ``id`` of the rule engine's transitions; it is opened by its first ``confirmed``,
``raised`` or ``escalated`` transition. It is *true* when a :class:`~device_sim.field.Truth`
names its enterprise, rule and subject, its opening time lies in the truth's window (reading time,
or platform time for ``by_emitted``), and it reaches the truth's level inside that window; a
required truth is claimed by one alarm only (a second is a repeat: false). Every other alarm is a
false alarm. A required truth no alarm claimed is a miss; the delay of a detection is the reading
time at which the alarm reached the truth's level minus the condition's onset.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime, UTC

import numpy as np

from hazmon.wire import AlarmTransition

from device_sim.field import Condition, Truth

OPENING = ("confirmed", "raised", "escalated")


@dataclass
class RuleCounts:
    expected: int = 0
    detected: int = 0
    false_alarms: int = 0
    delays_s: list[float] = field(default_factory=list)


@dataclass
class Result:
    """What the judge found; :meth:`summary` is the benchmark's JSON."""

    point_days: float
    false: list[AlarmTransition] = field(default_factory=list)     # the opening transition of each false alarm
    missed: list[Truth] = field(default_factory=list)
    detected: list[tuple[Truth, AlarmTransition]] = field(default_factory=list)
    per_rule: dict[str, RuleCounts] = field(default_factory=lambda: defaultdict(RuleCounts))
    conditions: list[Condition] = field(default_factory=list)
    start_ms: int = 0

    def summary(self) -> dict:
        delays = [d for counts in self.per_rule.values() for d in counts.delays_s]
        expected = sum(c.expected for c in self.per_rule.values())
        return {"point_days": round(self.point_days, 1), **_figures(expected, len(self.detected), len(self.false),
                                                                     delays, self.point_days),
                "per_rule": {rule: _figures(c.expected, c.detected, c.false_alarms, c.delays_s, self.point_days)
                             for rule, c in sorted(self.per_rule.items())}}

    def explain(self, limit: int = 15) -> list[str]:
        """Readable lines on the first false alarms and misses, with the conditions around them."""
        lines = [f"false alarms: {len(self.false)}, missed: {len(self.missed)} of "
                 f"{sum(c.expected for c in self.per_rule.values())}"]
        for t in sorted(self.false, key=lambda t: t["reading_ts"])[:limit]:
            near = self._near(t["enterprise"], t["reading_ts"])
            lines.append(f"  FALSE  {t['rule']}/{t['level']} {t['enterprise']} {t['point'] or t['device']} "
                         f"{t['transition']} at {_time(t['reading_ts'])} (run +{self._hours(t['reading_ts'])} h)"
                         f" value={t['value']} limit={t['limit']}  near: {near}")
        for truth in sorted(self.missed, key=lambda m: m.from_ms)[:limit]:
            lines.append(f"  MISSED {truth.rule}/{truth.level} {truth.enterprise} {truth.point or truth.device or '-'} "
                         f"({truth.condition}) in [{_time(truth.from_ms)}, {_time(truth.to_ms)}] "
                         f"(run +{self._hours(truth.from_ms)} h)")
        return lines

    def _hours(self, ms: int) -> str:
        return f"{(ms - self.start_ms) / 3_600_000:.2f}"

    def _near(self, enterprise: str, ms: int) -> str:
        at = (ms - self.start_ms) / 1000.0
        found = [f"{c.kind}({c.device or ''} {' '.join(c.points[:2])} +{c.start_s / 3600:.2f}..{c.end_s / 3600:.2f} h)"
                 for c in self.conditions
                 if c.enterprise in (enterprise, "platform") and c.start_s - 3600 <= at <= c.end_s + 3600]
        return ", ".join(found) or "noise only"


def _figures(expected: int, detected: int, false_alarms: int, delays: list[float], point_days: float) -> dict:
    return {"false_alarms": false_alarms,
            "false_alarms_per_1000_point_days": round(1000 * false_alarms / point_days, 3) if point_days else None,
            "expected": expected, "missed": expected - detected,
            "recall": round(detected / expected, 4) if expected else None,
            "p50_detection_delay_s": round(float(np.percentile(delays, 50)), 1) if delays else None,
            "p99_detection_delay_s": round(float(np.percentile(delays, 99)), 1) if delays else None}


def _time(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def _subject(truth: Truth, t: AlarmTransition) -> bool:
    if truth.point is not None:
        return t["point"] == truth.point
    if truth.device is not None:
        return t["device"] == truth.device
    return True


def _when(truth: Truth, t: AlarmTransition) -> int:
    return t["emitted_ms"] if truth.by_emitted else t["reading_ts"]


def judge(truths: Iterable[Truth], transitions: Iterable[AlarmTransition], point_days: float,
          conditions: list[Condition] | None = None, start_ms: int = 0) -> Result:
    """Match every alarm opened in ``transitions`` to the truth; see the module docstring."""
    result = Result(point_days, conditions=conditions or [], start_ms=start_ms)
    by_key: dict[tuple[str, str], list[Truth]] = defaultdict(list)
    for truth in truths:
        by_key[(truth.enterprise, truth.rule)].append(truth)
        if truth.required:
            result.per_rule[truth.rule].expected += 1
    alarms: dict[str, list[AlarmTransition]] = {}
    for t in transitions:
        if t["transition"] in OPENING:
            alarms.setdefault(t["id"], []).append(t)
    claimed: set[int] = set()
    for opened in alarms.values():
        first = opened[0]
        verdict = _claim(by_key[(first["enterprise"], first["rule"])], opened, claimed)
        if verdict is None:
            result.false.append(first)
            result.per_rule[first["rule"]].false_alarms += 1
        elif verdict[0].required:
            truth, reached = verdict
            result.detected.append((truth, reached))
            counts = result.per_rule[truth.rule]
            counts.detected += 1
            counts.delays_s.append(max(0.0, (reached["reading_ts"] - truth.onset_ms) / 1000.0))
    result.missed = [t for ts in by_key.values() for t in ts if t.required and id(t) not in claimed]
    return result


def _claim(truths: list[Truth], opened: list[AlarmTransition], claimed: set[int]) -> tuple[Truth, AlarmTransition] | None:
    """The truth this alarm meets (a required one not yet claimed first), with the transition that reached
    its level; None when it meets none (a false alarm)."""
    first = opened[0]
    tolerated = None
    for truth in truths:
        if not _subject(truth, first) or not truth.from_ms <= _when(truth, first) <= truth.to_ms:
            continue
        reached = next((t for t in opened if truth.level in (None, t["level"]) and truth.from_ms <= _when(truth, t) <= truth.to_ms),
                       None)
        if reached is None:
            continue
        if not truth.required:
            tolerated = tolerated or (truth, reached)
        elif id(truth) not in claimed:
            claimed.add(id(truth))
            return truth, reached
    return tolerated
