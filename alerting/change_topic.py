"""Every change of an alarm, as the API shows it, onto ``topics.ALARM_CHANGES`` for the uplink (docs/uplink.md).

Keyed by alarm id and queued in the order the changes were folded (``alerting.topic_sender``), so one
alarm's versions reach its partition in order; kept in the ledger until Kafka acknowledged them, so a
crash of alerting loses none.
"""

from __future__ import annotations

from hazmon import wire

from alerting.model import AlarmEvent
from alerting.topic_sender import Journal, TopicSender


class ChangeTopic(TopicSender):
    def __init__(self, bootstrap: str, topic: str, journal: Journal | None = None) -> None:
        super().__init__(bootstrap, topic, "alarm-changes", journal=journal)

    def submit(self, event: AlarmEvent, alarm_json: dict) -> None:
        """Queue the change ``event`` made, with the alarm's API view after it."""
        change: wire.AlarmChange = {"v": wire.WIRE_VERSION, "version": event.alarm.revision, "change": event.kind,
                                    "ts": event.ts, "by": event.by, "alarm": alarm_json}
        self.enqueue(event.alarm.id.encode(), wire.encode(change))
