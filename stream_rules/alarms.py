"""Open alarms of one enterprise and the transitions that change them.

An alarm is identified by a key (rule, subject, side) while open, and by a stable ``id`` derived
from (enterprise, subject, rule, start reading time) for its whole life. :class:`AlarmBook` turns
"this alarm should now be at level L" into the right transition, or into nothing.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import asdict, dataclass, field

from hazmon.wire import WIRE_VERSION, AlarmTransition
from stream_rules.messages import compose

FIRE_SEVERITY = 4
SEPARATE_LEVELS = frozenset({"rainfall"})  # each level is a limit of its own (1 h and 24 h sums): its own alarm


def alarm_id(enterprise: str, subject: str, rule: str, started_at: int) -> str:
    """Stable id of an alarm: the same inputs give the same id in every run and after restarts."""
    return hashlib.sha1(f"{enterprise}|{subject}|{rule}|{started_at}".encode()).hexdigest()[:24]


@dataclass(slots=True)
class OpenAlarm:
    id: str
    rule: str
    site: str
    device: str
    point: str
    level: str | None
    severity: int
    started_at: int


@dataclass(frozen=True, slots=True)
class Subject:
    """What an alarm is about, the names operators know it by (§10: enterprise, site and point by
    name), and the unit of its values."""

    site: str
    device: str
    point: str
    name: str
    name_en: str
    unit: str = ""


@dataclass(slots=True)
class Change:
    """The desired state of one alarm after a reading or event."""

    rule: str
    key: str
    subject: Subject
    level: str | None
    severity: int
    reading_ts: int
    value: float | None = None
    limit: float | None = None
    reason: str | None = None
    extra: dict[str, float | str | None] = field(default_factory=dict)


class AlarmBook:
    """The open alarms of one enterprise; ``apply`` emits a transition only when something changed."""

    def __init__(self, enterprise: str, alarms: dict[str, OpenAlarm], emit: Callable[[AlarmTransition], None],
                 clock: Callable[[], int]) -> None:
        self.enterprise = enterprise
        self.open = alarms
        self._emit = emit
        self._clock = clock
        self.sent = 0   # transitions emitted so far

    def is_open(self, key: str) -> bool:
        return key in self.open

    def apply(self, change: Change, started_at: int, start_transition: str = "confirmed") -> None:
        """Open (``start_transition``), escalate or de-escalate the alarm ``change.key`` to ``change.severity``."""
        current = self.open.get(change.key)
        if current is None:
            rule = f"{change.rule}:{change.level}" if change.rule in SEPARATE_LEVELS else change.rule
            alarm = OpenAlarm(alarm_id(self.enterprise, change.subject.point or change.subject.device, rule, started_at),
                              change.rule, change.subject.site, change.subject.device, change.subject.point,
                              change.level, change.severity, started_at)
            self.open[change.key] = alarm
            self._send(alarm, start_transition, change)
        elif change.severity != current.severity:
            transition = "escalated" if change.severity > current.severity else "deescalated"
            current.level, current.severity = change.level, change.severity
            self._send(current, transition, change)

    def clear(self, change: Change) -> None:
        alarm = self.open.pop(change.key, None)
        if alarm is not None:
            # an alarm never clears before it started: a clear judged at a watermark that lags
            # the alarm's own start (an offline status newer than the last reading) is stamped at the start
            change.reading_ts = max(change.reading_ts, alarm.started_at)
            self._send(alarm, "cleared", change)

    def record(self, change: Change) -> None:
        """A one-off record (an event such as 屏蔽) that opens no alarm."""
        alarm = OpenAlarm(alarm_id(self.enterprise, change.subject.point, f"{change.rule}:{change.reason}", change.reading_ts),
                          change.rule, change.subject.site, change.subject.device, change.subject.point,
                          change.level, change.severity, change.reading_ts)
        self._send(alarm, "recorded", change)

    def _send(self, alarm: OpenAlarm, transition: str, change: Change) -> None:
        self.sent += 1
        message, message_en = compose(change.subject, alarm.rule, alarm.level, transition, change.value,
                                      change.limit, change.reason, change.extra, change.reading_ts)
        record: AlarmTransition = {
            "v": WIRE_VERSION, "id": alarm.id, "transition": transition,  # type: ignore[typeddict-item]
            "enterprise": self.enterprise, "site": alarm.site, "device": alarm.device, "point": alarm.point,
            "rule": alarm.rule, "level": alarm.level, "severity": alarm.severity,  # type: ignore[typeddict-item]
            "value": change.value, "limit": change.limit, "started_at": alarm.started_at,
            "reading_ts": change.reading_ts, "emitted_ms": self._clock(), "message": message, "message_en": message_en,
        }
        extra = dict(change.extra)
        if change.reason:
            extra["reason"] = change.reason
        if extra:
            record["extra"] = extra
        self._emit(record)


def alarms_to_json(alarms: dict[str, OpenAlarm]) -> dict[str, dict]:
    return {key: asdict(alarm) for key, alarm in alarms.items()}


def alarms_from_json(data: dict[str, dict]) -> dict[str, OpenAlarm]:
    return {key: OpenAlarm(**fields) for key, fields in data.items()}
