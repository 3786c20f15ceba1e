"""One notification: the alarm changes of one enterprise that go out together, rendered as text."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

import orjson

from alerting.model import ESCALATION_PREFIX, AlarmEvent
from alerting.text import Texts


@dataclass(frozen=True, slots=True)
class NotifiedChange:
    """A snapshot of an alarm at the moment of its change (the alarm itself keeps changing)."""

    kind: str
    ts: int
    alarm: dict
    link: str
    place: str   # the site and point by name, as officers know them

    @classmethod
    def of(cls, event: AlarmEvent, public_url: str, place: str) -> NotifiedChange:
        """``place``: the alarm's site and point as officers read them (``AlertingService.place_of``, §10)."""
        alarm = event.alarm
        return cls(kind=event.kind, ts=event.ts, alarm=alarm.to_json(),
                   link=f"{public_url.rstrip('/')}/alarms/{alarm.id}", place=place)

    @classmethod
    def from_json(cls, body: bytes) -> NotifiedChange:
        return cls(**orjson.loads(body))

    def json_bytes(self) -> bytes:
        """As the outbox keeps it: a re-sent notification is built from the very same snapshot."""
        return orjson.dumps(asdict(self))

    @property
    def key(self) -> tuple[str, int]:
        """(alarm id, version): the same on every delivery of this change, so a receiver can fold repeats."""
        return self.alarm["id"], int(self.alarm["revision"])

    @property
    def tier(self) -> int:
        """The escalation tier this change is a step to (0 when it is not an escalation step)."""
        return int(self.kind.removeprefix(ESCALATION_PREFIX)) if self.kind.startswith(ESCALATION_PREFIX) else 0

    @property
    def fire(self) -> bool:
        return self.alarm["rule"] == "fire"

    def event(self, texts: Texts) -> str:
        return texts.event(self.kind, bool(self.alarm.get("awaiting_feedback")))

    def severity(self, texts: Texts) -> str:
        return texts.severity(self.alarm["rule"], self.alarm["level"])

    @property
    def rank(self) -> tuple[bool, int]:
        """How grave the alarm is: fire first, then the rule engine's severity."""
        return self.fire, int(self.alarm.get("severity") or 0)


@dataclass(slots=True)
class Notification:
    enterprise: str
    enterprise_name: str
    changes: list[NotifiedChange] = field(default_factory=list)

    @property
    def tier(self) -> int:
        """The highest escalation tier among the changes (0 when none is an escalation step)."""
        return max((c.tier for c in self.changes), default=0)

    def title(self, texts: Texts) -> str:
        """Severity first (a phone's lock screen shows the start of it), then what happened and where."""
        if len(self.changes) == 1:
            change = self.changes[0]
            return f"【{change.severity(texts)}】{change.event(texts)}：{self.enterprise_name}" if texts.language == "zh" \
                else f"[{change.severity(texts)}] {change.event(texts)}: {self.enterprise_name}"
        gravest = max(self.changes, key=lambda c: c.rank)
        return texts.group_title(gravest.severity(texts), self.enterprise_name, len(self.changes))

    def _line(self, change: NotifiedChange, texts: Texts) -> str:
        message = texts.alarm_message(change.alarm["message"], change.alarm["message_en"])
        return f"[{change.event(texts)}] {message} ({change.place}, {change.severity(texts)})"

    def markdown(self, texts: Texts) -> str:
        lines = [f"### {self.title(texts)}"]
        lines += [f"- {self._line(c, texts)} [{'处置' if texts.language == 'zh' else 'open'}]({c.link})"
                  for c in self.changes]
        return "\n".join(lines)

    def plain(self, texts: Texts) -> str:
        return "\n".join([self.title(texts)] + [f"{self._line(c, texts)} {c.link}" for c in self.changes])
