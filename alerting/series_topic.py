"""Alerting's InfluxDB lines (alarm records, risk colours, its pipeline metrics) onto ``topics.SERIES``,
for the recorder to write (docs/architecture.md, "InfluxDB"): alerting itself never writes InfluxDB.

:meth:`SeriesTopic.submit` is called on the alarm path and only queues (``alerting.topic_sender``):
each call's lines become ``wire.SeriesLines`` records of at most ``RECORD_LINES`` lines, all keyed
``alerting`` (one partition: the lines reach the recorder in the order they were made, as they would
have reached InfluxDB).
"""

from __future__ import annotations

from hazmon import wire

from alerting.topic_sender import Journal, TopicSender

RECORD_LINES = 1000     # lines per record: a risk snapshot of a province stays far below Kafka's 1 MB records
KEY = b"alerting"


class SeriesTopic(TopicSender):
    def __init__(self, bootstrap: str, topic: str, journal: Journal | None = None) -> None:
        super().__init__(bootstrap, topic, "series-lines", journal=journal)
        self.lines = 0          # lines submitted since start

    def submit(self, lines: list[str]) -> None:
        """Queue ``lines`` for the recorder; never blocks."""
        for start in range(0, len(lines), RECORD_LINES):
            chunk = lines[start:start + RECORD_LINES]
            self.enqueue(KEY, wire.encode(wire.SeriesLines(v=wire.WIRE_VERSION, component="alerting", lines=chunk)))
            self.lines += len(chunk)
