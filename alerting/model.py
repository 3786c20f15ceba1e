"""What alerting keeps about one alarm, the actions officers take on it, and what a change produces.

An :class:`Alarm` is built from the rule engine's transitions (``wire.AlarmTransition``) and the
actions on ``topics.ALARM_ACTIONS``; its lifecycle state (data standard §8) is derived, never stored
apart: closed if closed, else cleared if the data cleared it, else acknowledged if acknowledged,
else active.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from operator import attrgetter
from typing import Literal, get_args

import orjson

State = Literal["active", "acknowledged", "cleared", "closed"]
STATES: tuple[str, ...] = ("active", "acknowledged", "cleared", "closed")
# 处置反馈's cause (issue 17): 真实险情, 设备故障, 误报, 测试, 其他 (words in alerting.text). Closes recorded before the
# codes may carry a free-text cause: kept and shown as written, counted as none of these.
CloseCause = Literal["real_hazard", "device_fault", "false_alarm", "test", "other"]
CLOSE_CAUSES: tuple[str, ...] = get_args(CloseCause)
FALSE_ALARM: CloseCause = "false_alarm"
SECOND_LEVELS = frozenset({"high_high", "low_low", "red"})
FIRST_LEVELS = frozenset({"high", "low"})
# Rules without a confirmation window: their first transition is already the platform's alarm.
IMMEDIATE_RULES = frozenset({"fire", "fault", "offline", "trend", "rollup", "platform"})
# Rules whose level names a limit only predicted or not about the process: a warning, never second level.
WARNING_RULES = frozenset({"trend", "fault", "offline"})
TIER_NAMES = ("enterprise", "county", "prefecture")
ESCALATION_PREFIX = "escalated_tier"   # event kind of an escalation step: escalated_tier1, escalated_tier2


class ActionRefused(Exception):
    """An action that the alarm's lifecycle does not allow; ``code`` is stable, the text operator-facing."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code
        self.message = message


@dataclass(slots=True)
class Alarm:
    id: str
    enterprise: str
    site: str
    device: str
    point: str
    rule: str
    level: str | None
    severity: int
    value: float | None
    limit: float | None
    started_at: int
    message: str
    message_en: str
    reading_ts: int | None = None     # device time of the reading that made the latest change (§10)
    confirmed: bool = False
    data_cleared: bool = False
    cleared_at: int | None = None
    escalable_since: int | None = None
    acked_by: str | None = None
    acked_at: int | None = None
    ack_comment: str | None = None
    closed_by: str | None = None
    closed_at: int | None = None
    close_note: str | None = None
    close_cause: str | None = None
    close_measures: str | None = None
    escalation: int = 0
    escalations: list[dict[str, int]] = field(default_factory=list)
    updated_at: int = 0
    extra: dict[str, float | str | None] = field(default_factory=dict)
    awaiting_feedback: bool = False   # 待反馈: second-level/red/fire, cleared by the data before anyone acknowledged it
    revision: int = 0                 # changes folded into it: the ledger keeps the highest revision it was given
    cached_json: tuple[int, bytes] | None = field(default=None, repr=False, compare=False)   # (revision, API JSON)

    @property
    def state(self) -> State:
        if self.closed_at is not None:
            return "closed"
        if self.data_cleared:
            return "cleared"
        if self.acked_at is not None:
            return "acknowledged"
        return "active"

    @property
    def is_open(self) -> bool:
        """Counts for the risk colour: the platform's alarm (confirmed) and not yet cleared by data."""
        return self.confirmed and not self.data_cleared and self.closed_at is None

    @property
    def needs_escalation_watch(self) -> bool:
        """Second-level, red or fire, open or 待反馈, and nobody has acknowledged it yet (§8)."""
        return ((self.is_open or self.awaiting_feedback) and self.acked_at is None and self.closed_at is None
                and self.escalable_since is not None)

    def escalable_level(self) -> bool:
        return self.rule == "fire" or (self.rule not in WARNING_RULES and self.level in SECOND_LEVELS)

    def record(self) -> dict:
        """Every field, as the ledger stores it (a shallow copy: the lists and dicts are copied one level)."""
        body = {name: getattr(self, name) for name in _FIELDS}
        body["escalations"] = [dict(step) for step in self.escalations]
        body["extra"] = dict(self.extra)
        return body

    @classmethod
    def from_record(cls, body: dict) -> Alarm:
        return cls(**{name: body[name] for name in _FIELDS if name in body})

    def to_json(self, suppression: dict | None = None) -> dict:
        """The API's view: every field, the derived ``state`` and ``escalated_to``, the suppression in force."""
        body = self.record()
        body["state"] = self.state
        body["suppressed"] = suppression is not None
        body["suppression"] = suppression
        body["escalated_to"] = TIER_NAMES[self.escalation]
        return body

    def json_bytes(self, suppression: dict | None) -> bytes:
        """:meth:`to_json` serialised, kept until the next change while no suppression is in force (the usual case)."""
        if suppression is not None:
            return orjson.dumps(self.to_json(suppression))
        if self.cached_json is None or self.cached_json[0] != self.revision:
            self.cached_json = (self.revision, orjson.dumps(self.to_json()))
        return self.cached_json[1]


_FIELDS: tuple[str, ...] = tuple(f.name for f in fields(Alarm) if f.name != "cached_json")
PageKey = tuple[int, str]              # (started_at, id): the listing's order, newest first; never changes for an alarm
key_of: Callable[[Alarm], PageKey] = attrgetter("started_at", "id")   # type: ignore[assignment]


def newest_first(alarms: list[Alarm]) -> list[Alarm]:
    """Sorted by (started_at, id), descending: two stable sorts on one attribute each beat one on a tuple."""
    alarms.sort(key=attrgetter("id"), reverse=True)
    alarms.sort(key=attrgetter("started_at"), reverse=True)
    return alarms


@dataclass(frozen=True, slots=True)
class AlarmEvent:
    """A change of one alarm, as the sinks (InfluxDB, notifications, Grafana, risk) see it.

    ``kind`` is the transition name for the rule engine's changes, or ``acknowledged``, ``closed``,
    ``escalated_tier`` for officers' and the escalator's; ``ts`` is the change's own time, so that a
    replay writes the same InfluxDB point again.
    """

    kind: str
    alarm: Alarm
    ts: int
    by: str | None = None
    notify: bool = False
    annotate: bool = False
