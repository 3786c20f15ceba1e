"""One notification: the alarm changes of one enterprise that go out together, rendered as text."""

from __future__ import annotations

from dataclasses import dataclass, field

from alerting.model import ESCALATION_PREFIX, AlarmEvent
from alerting.text import Texts


@dataclass(frozen=True, slots=True)
class NotifiedChange:
    """A snapshot of an alarm at the moment of its change (the alarm itself keeps changing)."""

    kind: str
    ts: int
    alarm: dict
    link: str

    @classmethod
    def of(cls, event: AlarmEvent, public_url: str) -> NotifiedChange:
        return cls(kind=event.kind, ts=event.ts, alarm=event.alarm.to_json(),
                   link=f"{public_url.rstrip('/')}/alarms/{event.alarm.id}")


@dataclass(slots=True)
class Notification:
    enterprise: str
    enterprise_name: str
    changes: list[NotifiedChange] = field(default_factory=list)

    @property
    def tier(self) -> int:
        """The highest escalation tier among the changes (0 when none is an escalation step)."""
        return max((int(c.kind.removeprefix(ESCALATION_PREFIX)) for c in self.changes
                    if c.kind.startswith(ESCALATION_PREFIX)), default=0)

    def title(self, texts: Texts) -> str:
        if len(self.changes) == 1:
            change = self.changes[0]
            return f"{texts.event(change.kind)}：{self.enterprise_name}" if texts.language == "zh" \
                else f"{texts.event(change.kind)}: {self.enterprise_name}"
        return texts.group_title(self.enterprise_name, len(self.changes))

    def _line(self, change: NotifiedChange, texts: Texts) -> str:
        alarm = change.alarm
        message = texts.alarm_message(alarm["message"], alarm["message_en"])
        return f"[{texts.event(change.kind)}] {message} ({alarm['site']}/{alarm['point']}, {alarm['rule']} {alarm['level'] or ''})"

    def markdown(self, texts: Texts) -> str:
        lines = [f"### {self.title(texts)}"]
        lines += [f"- {self._line(c, texts)} [{'处置' if texts.language == 'zh' else 'open'}]({c.link})"
                  for c in self.changes]
        return "\n".join(lines)

    def plain(self, texts: Texts) -> str:
        return "\n".join([self.title(texts)] + [f"{self._line(c, texts)} {c.link}" for c in self.changes])
