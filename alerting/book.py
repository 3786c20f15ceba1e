"""The alarm book: the state of every alarm not yet closed, folded from transitions and actions in log order.

Pure and synchronous: the same records in the same order give the same book on every instance and
after every restart. ``check_*`` say whether an action is allowed before it is published;
``apply_*`` fold a record and return what changed. What changed since the last
:meth:`AlarmBook.take_changes` goes to the ledger (``alerting/ledger.py``); closed alarms then
leave memory (:meth:`AlarmBook.evict_closed`) and come back (:meth:`AlarmBook.restore`) only
when a record about them arrives.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazmon.wire import AlarmAction, AlarmTransition

from alerting.model import ESCALATION_PREFIX, IMMEDIATE_RULES, ActionRefused, Alarm, AlarmEvent, newest_first
from alerting.text import Texts

SUPPRESSION_MAX_MS = 72 * 3600 * 1000   # §8: a maintenance suppression lasts at most 72 h


@dataclass(frozen=True, slots=True)
class Suppression:
    """A maintenance suppression (屏蔽) of one point: its alarms are neither notified nor escalated."""

    enterprise: str
    point: str
    reason: str
    by: str
    since: int
    expires_at: int


class AlarmBook:
    def __init__(self, texts: Texts) -> None:
        self.alarms: dict[str, Alarm] = {}
        self._by_enterprise: dict[str, dict[str, Alarm]] = {}   # alarms not closed, for the risk colour
        self.suppressions: dict[tuple[str, str], Suppression] = {}
        self._texts = texts
        self._changed: dict[str, Alarm] = {}
        self._new_suppressions: list[Suppression] = []
        self._newest_first: list[Alarm] | None = None   # the listing's order, sorted again only when alarms come or go

    # --- queries -------------------------------------------------------------------------

    def get(self, alarm_id: str) -> Alarm | None:
        return self.alarms.get(alarm_id)

    def newest_first(self) -> list[Alarm]:
        """Every alarm in memory by (started_at, id), newest first; the key never changes, so the order is
        kept until an alarm comes or goes (do not modify the list)."""
        if self._newest_first is None:
            self._newest_first = newest_first(list(self.alarms.values()))
        return self._newest_first

    def of_enterprise(self, enterprise: str) -> Iterable[Alarm]:
        return self._by_enterprise.get(enterprise, {}).values()

    def suppression_at(self, alarm: Alarm, ts: int) -> Suppression | None:
        """The suppression of ``alarm``'s point in force at ``ts``, if any; a fire alarm is never suppressed (§8)."""
        if alarm.rule == "fire":
            return None
        suppression = self.suppressions.get((alarm.enterprise, alarm.point))
        return suppression if suppression is not None and suppression.since <= ts < suppression.expires_at else None

    def suppressions_at(self, ts: int) -> list[Suppression]:
        return [s for s in self.suppressions.values() if s.since <= ts < s.expires_at]

    # --- memory and the ledger -------------------------------------------------------------

    def restore(self, alarms: Iterable[Alarm], suppressions: Iterable[Suppression] = ()) -> None:
        """Put alarms (and suppressions) read from the ledger back into memory; they are not changes."""
        for alarm in alarms:
            if alarm.id in self.alarms:
                continue   # memory is never older than the ledger
            self.alarms[alarm.id] = alarm
            self._newest_first = None
            if alarm.closed_at is None:
                self._by_enterprise.setdefault(alarm.enterprise, {})[alarm.id] = alarm
        for suppression in suppressions:
            key = (suppression.enterprise, suppression.point)
            if key not in self.suppressions or self.suppressions[key].since <= suppression.since:
                self.suppressions[key] = suppression

    def take_changes(self) -> tuple[list[Alarm], list[Suppression]]:
        """The alarms changed and suppressions set since the last call."""
        alarms, suppressions = list(self._changed.values()), self._new_suppressions
        self._changed, self._new_suppressions = {}, []
        return alarms, suppressions

    def evict_closed(self, alarms: Iterable[Alarm]) -> None:
        """Closed alarms leave memory once the ledger holds them; they are read from it on demand."""
        for alarm in alarms:
            if alarm.closed_at is not None and alarm.id not in self._changed and self.alarms.pop(alarm.id, None) is not None:
                self._newest_first = None

    def _changed_now(self, alarm: Alarm) -> None:
        alarm.revision += 1
        self._changed[alarm.id] = alarm

    def is_suppressed(self, alarm: Alarm, now_ms: int) -> bool:
        return self.suppression_at(alarm, now_ms) is not None

    # --- transitions ---------------------------------------------------------------------

    def apply_transition(self, record: AlarmTransition) -> AlarmEvent | None:
        """Fold one transition; the latest transition per id is the rule engine's view of the alarm."""
        kind = record["transition"]
        ts = record["emitted_ms"]
        alarm = self.alarms.get(record["id"])
        if alarm is None:
            alarm = Alarm(id=record["id"], enterprise=record["enterprise"], site=record["site"],
                          device=record["device"], point=record["point"], rule=record["rule"],
                          level=record["level"], severity=record["severity"], value=record["value"],
                          limit=record["limit"], started_at=record["started_at"], message=record["message"],
                          message_en=record["message_en"])
            self.alarms[alarm.id] = alarm
            self._newest_first = None
            if alarm.closed_at is None:
                self._by_enterprise.setdefault(alarm.enterprise, {})[alarm.id] = alarm
        elif ts < alarm.updated_at:
            return None  # an older view than the one already folded: a replayed or reordered record
        was_open = alarm.is_open
        alarm.level, alarm.severity = record["level"], record["severity"]
        alarm.value, alarm.limit = record["value"], record["limit"]
        alarm.message, alarm.message_en = record["message"], record["message_en"]
        alarm.extra = dict(record.get("extra") or {})
        alarm.reading_ts = record.get("reading_ts")
        alarm.updated_at = ts
        if kind == "recorded":
            alarm.confirmed, alarm.data_cleared, alarm.cleared_at = True, True, ts
        elif kind == "cleared":
            alarm.data_cleared, alarm.cleared_at = True, ts
        else:
            alarm.confirmed = alarm.confirmed or kind != "raised" or alarm.rule in IMMEDIATE_RULES
            alarm.data_cleared, alarm.cleared_at = False, None
        self._watch_escalation(alarm, kind, ts)
        self._changed_now(alarm)
        opened = alarm.is_open and not was_open
        return AlarmEvent(kind=kind, alarm=alarm, ts=ts, notify=opened or kind == "escalated",
                          annotate=opened)

    @staticmethod
    def _watch_escalation(alarm: Alarm, kind: str, ts: int) -> None:
        """Start the escalation clock when an open alarm becomes second-level/red/fire; keep it running for 待反馈.

        An escalable alarm that the data cleared before anyone acknowledged it waits for a disposal
        note (待反馈) and goes on escalating like an unacknowledged one, on the same clock.
        """
        if alarm.is_open:
            alarm.awaiting_feedback = False
            if alarm.escalable_level():
                if alarm.escalable_since is None:
                    alarm.escalable_since = ts
            elif alarm.escalation == 0:
                alarm.escalable_since = None
        elif (kind == "cleared" and alarm.escalable_since is not None and alarm.acked_at is None
              and alarm.closed_at is None):
            alarm.awaiting_feedback = True

    # --- actions -------------------------------------------------------------------------

    def check_action(self, action: AlarmAction) -> Alarm | None:
        """Raise :class:`ActionRefused` when ``action`` is not allowed now; return its alarm, if any."""
        kind = action["action"]
        if kind == "suppress":
            if action["expires_at"] <= action["ts"]:
                raise ActionRefused("expired", self._texts.refusal("expired"))
            if action["expires_at"] - action["ts"] > SUPPRESSION_MAX_MS:
                raise ActionRefused("too_long", self._texts.refusal("too_long"))
            reason = action.get("reason")
            if not isinstance(reason, str) or not reason.strip():
                raise ActionRefused("no_reason", self._texts.refusal("no_reason"))
            return None
        alarm = self.alarms.get(action["alarm"])
        if alarm is None:
            raise ActionRefused("not_found", self._texts.refusal("not_found"))
        if alarm.closed_at is not None:
            raise ActionRefused("closed", self._texts.refusal("closed"))
        if kind == "ack" and alarm.acked_at is not None:
            raise ActionRefused("already_acknowledged", self._texts.refusal("already_acknowledged"))
        if kind == "close" and not alarm.data_cleared:
            raise ActionRefused("still_active", self._texts.refusal("still_active"))
        if kind == "escalate" and (action["tier"] <= alarm.escalation or alarm.acked_at is not None):
            raise ActionRefused("not_due", self._texts.refusal("not_due"))
        return alarm

    def apply_action(self, action: AlarmAction) -> AlarmEvent | None:
        """Fold one action; an action the lifecycle refuses (a lost race) is ignored, raising the reason."""
        alarm = self.check_action(action)
        kind, ts, by = action["action"], action["ts"], action["by"]
        if kind == "suppress":
            suppression = Suppression(action["enterprise"], action["point"], action["reason"], by, ts,
                                      action["expires_at"])
            self.suppressions[(suppression.enterprise, suppression.point)] = suppression
            self._new_suppressions.append(suppression)
            return None
        assert alarm is not None
        self._changed_now(alarm)
        if kind == "ack":
            alarm.acked_by, alarm.acked_at, alarm.ack_comment = by, ts, action["comment"]
            return AlarmEvent(kind="acknowledged", alarm=alarm, ts=ts, by=by)
        if kind == "close":
            alarm.closed_by, alarm.closed_at, alarm.close_note = by, ts, action["note"]
            alarm.close_cause, alarm.close_measures = action.get("cause"), action.get("measures")
            alarm.awaiting_feedback = False
            self._by_enterprise.get(alarm.enterprise, {}).pop(alarm.id, None)
            return AlarmEvent(kind="closed", alarm=alarm, ts=ts, by=by)
        alarm.escalation = action["tier"]
        alarm.escalations.append({"tier": action["tier"], "at": ts})
        return AlarmEvent(kind=f"{ESCALATION_PREFIX}{action['tier']}", alarm=alarm, ts=ts, by=by, notify=True)
