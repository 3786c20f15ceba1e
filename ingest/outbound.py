"""One flush worth of work: the Kafka records, the MQTT acknowledgements and the counters that
belong to a run of MQTT messages, so that they succeed or are retried together.

A refused message is one dead-letter record, whatever the number of its refusals (§6 rev. 1.1): its
original bytes once, with a header listing every refusal. One record per refused reading made a
256 KiB message with 1 000 bad readings 256 MB of Kafka."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Protocol

import orjson

from hazmon.topics import PlatformTopics
from hazmon.wire import WIRE_VERSION, ReadingBatch, encode
from ingest.parser import Refusal, Verdict
from ingest.reasons import Language, Reason
from ingest.stats import IngestCounters
from ingest.topics import errors_topic

MAX_REPLY_DETAILS = 5
MAX_READINGS_PER_RECORD = 5000  # keeps a ReadingBatch well below Kafka's 1 MiB record limit


class Acknowledger(Protocol):
    def ack_all(self, mids: list[int]) -> None: ...


Ack = tuple[Acknowledger, int]  # the connection a message came on, and its MQTT message id


@dataclass(frozen=True, slots=True)
class KafkaRecord:
    topic: str
    key: bytes
    value: bytes
    headers: list[tuple[str, bytes]] | None = None


@dataclass(slots=True)
class Reply:
    """An answer on a device's errors topic (data standard §2)."""

    enterprise: str
    topic: str
    payload: bytes


@dataclass(slots=True)
class FlushBatch:
    topics: PlatformTopics
    records: list[KafkaRecord] = field(default_factory=list)
    readings: dict[tuple[str, str], ReadingBatch] = field(default_factory=dict)
    acks: list[Ack] = field(default_factory=list)  # in arrival order
    replies: list[Reply] = field(default_factory=list)
    counters: IngestCounters = field(default_factory=IngestCounters)

    def __len__(self) -> int:
        return len(self.acks)

    def acks_by_link(self) -> dict[Acknowledger, list[int]]:
        """The message ids to acknowledge on each connection, each connection's in arrival order."""
        by_link: dict[Acknowledger, list[int]] = {}
        for link, mid in self.acks:
            mids = by_link.get(link)
            if mids is None:
                by_link[link] = [mid]
            else:
                mids.append(mid)
        return by_link

    def add_ignored(self, ack: Ack) -> None:
        """A message with nothing to write, acknowledged in its turn."""
        self.acks.append(ack)

    def add_duplicate(self, verdict: Verdict, ack: Ack) -> None:
        self.add_ignored(ack)
        self.counters.of(verdict.enterprise).duplicates += 1

    def add_rate_limited(self, enterprise: str, device: str, mqtt_topic: str, ack: Ack, recv_ms: int,
                         detail: str) -> None:
        """A message over its enterprise's or device's rate: acknowledged, counted and answered, but
        neither parsed nor kept (keeping a flood would pass it on to Kafka)."""
        self.add_ignored(ack)
        self.counters.of(enterprise).refused[Reason.RATE_LIMITED.value] += 1
        self.replies.append(_reply(enterprise, device, mqtt_topic, recv_ms, Reason.RATE_LIMITED.value, detail))

    def add(self, verdict: Verdict, mqtt_topic: str, payload: bytes, ack: Ack, gap: int,
            language: Language) -> None:
        """Everything one parsed message needs written before its acknowledgement."""
        self.acks.append(ack)
        counts = self.counters.of(verdict.enterprise)
        counts.gaps += gap
        key = verdict.enterprise.encode()
        if verdict.readings:
            self._add_readings(verdict)
            counts.accepted += len(verdict.readings)
        if verdict.event is not None:
            self.records.append(KafkaRecord(self.topics.events, key, encode(verdict.event)))
            counts.accepted += 1
        if verdict.status is not None:
            self.records.append(KafkaRecord(self.topics.device_status, key, encode(verdict.status)))
            counts.accepted += 1
        for refusal in verdict.refusals:
            counts.refused[refusal.reason.value] += 1
        if verdict.refusals:
            self.records.append(KafkaRecord(self.topics.deadletter, key, payload,
                                            _deadletter_headers(verdict, mqtt_topic)))
            self.replies += _replies(verdict, mqtt_topic, language)

    def _add_readings(self, verdict: Verdict) -> None:
        columns = verdict.readings
        device_key = (verdict.enterprise, verdict.device)
        batch = self.readings.get(device_key)
        if batch is not None and len(batch["points"]) + len(columns) > MAX_READINGS_PER_RECORD:
            self.records.append(KafkaRecord(self.topics.readings, verdict.enterprise.encode(), encode(batch)))
            batch = None
        if batch is None:
            self.readings[device_key] = ReadingBatch(
                v=WIRE_VERSION, enterprise=verdict.enterprise, device=verdict.device, recv_ms=verdict.recv_ms,
                points=columns.points, ts=columns.ts, values=columns.values, q=columns.q, ts_src=columns.ts_src)
            return
        batch["points"] += columns.points
        batch["ts"] += columns.ts
        batch["values"] += columns.values
        batch["q"] += columns.q
        batch["ts_src"] += columns.ts_src

    def kafka_records(self) -> list[KafkaRecord]:
        """Every record of the batch; a device's ReadingBatch records stay in arrival order."""
        grouped = [KafkaRecord(self.topics.readings, enterprise.encode(), encode(batch))
                   for (enterprise, _), batch in self.readings.items()]
        return self.records + grouped


def _deadletter_headers(verdict: Verdict, mqtt_topic: str) -> list[tuple[str, bytes]]:
    """``reason``: the message's reasons in order of first appearance, comma-separated; ``detail``: the
    first refusal's text; ``refusals``: JSON ``[{"reason", "reading", "point"}]``, every refusal
    (``reading`` null for the whole message)."""
    refusals = verdict.refusals
    reasons = ",".join(dict.fromkeys(r.reason.value for r in refusals))
    listed = orjson.dumps([{"reason": r.reason.value, "reading": r.reading_index, "point": r.point} for r in refusals])
    return [("mqtt_topic", mqtt_topic.encode()), ("reason", reasons.encode()), ("detail", refusals[0].detail.encode()),
            ("refusals", listed), ("recv_ms", str(verdict.recv_ms).encode()),
            ("enterprise", verdict.enterprise.encode()), ("device", verdict.device.encode())]


def _reply(enterprise: str, device: str, mqtt_topic: str, recv_ms: int, reason: str, detail: str) -> Reply:
    return Reply(enterprise, errors_topic(enterprise, device), orjson.dumps(
        {"v": WIRE_VERSION, "ts": recv_ms, "topic": mqtt_topic, "reason": reason, "detail": detail}))


def _replies(verdict: Verdict, mqtt_topic: str, language: Language) -> list[Reply]:
    """One answer per reason: a message with 300 bad readings gets a few lines, not 300."""
    by_reason: dict[str, list[Refusal]] = defaultdict(list)
    for refusal in verdict.refusals:
        by_reason[refusal.reason.value].append(refusal)
    replies = []
    for reason, refusals in by_reason.items():
        detail = "; ".join(r.detail for r in refusals[:MAX_REPLY_DETAILS])
        if len(refusals) > MAX_REPLY_DETAILS:
            detail += f" (+{len(refusals) - MAX_REPLY_DETAILS}" + (" 条)" if language == "zh" else " more)")
        replies.append(_reply(verdict.enterprise, verdict.device, mqtt_topic, verdict.recv_ms, reason, detail))
    return replies
