"""Input records the rules set aside, as dead letters: one record on the platform's dead-letter topic each.

The record is the one ingest's refusals use (``hazmon.topics.DEADLETTER``: the original bytes, metadata
in headers), so one topic holds everything the platform took and could not use. Its key is the input
record's key and its partition the input's, so it is written in that partition's transaction, with the
outputs and offsets of its batch. Headers: ``reason`` ``rules_<what failed>`` (``rules_undecodable``,
``rules_malformed``, ``rules_wrong_partition``, ``rules_engine_error``), ``detail`` (what the check or
the engine said, repr'd and cut: never raw device text), and where the record was read: ``topic``,
``partition``, ``offset``.

Each is logged once, as a warning with the same fields.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from hazmon.logs import printable
from stream_rules.admission import DETAIL_CHARS, Unfit

log = logging.getLogger("stream_rules.dead_letters")


@dataclass(frozen=True, slots=True)
class DeadLetter:
    topic: str          # where the record was read
    partition: int
    offset: int
    key: bytes | None
    value: bytes        # the record as read
    reason: str         # Unfit.reason
    detail: str

    @classmethod
    def of(cls, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
           unfit: Unfit) -> DeadLetter:
        return cls(topic, partition, offset, key, value or b"", unfit.reason, unfit.detail)

    @classmethod
    def engine_failed(cls, topic: str, partition: int, offset: int, key: bytes | None, value: bytes | None,
                      error: Exception) -> DeadLetter:
        return cls.of(topic, partition, offset, key, value, Unfit("engine_error", printable(repr(error), DETAIL_CHARS)))

    def headers(self) -> list[tuple[str, bytes]]:
        return [("reason", f"rules_{self.reason}".encode()), ("detail", self.detail.encode()),
                ("topic", self.topic.encode()), ("partition", str(self.partition).encode()),
                ("offset", str(self.offset).encode())]

    def log(self) -> None:
        log.warning("record set aside: the rules cannot evaluate it; it is on the dead-letter topic", extra={
            "topic": self.topic, "partition": self.partition, "offset": self.offset, "reason": f"rules_{self.reason}",
            "detail": self.detail, "key": printable(repr(self.key), DETAIL_CHARS)})
