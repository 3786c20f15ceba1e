"""Kafka topic → InfluxDB: accepted readings (``reading``), the platform's counters and the lines other
stages computed (``hazmon.series.v1``: alerting's alarms, risk colours and metrics).

Reads in batches with a consumer group, writes each batch in one request and commits the offsets
only after InfluxDB accepted it: at-least-once, and a replay overwrites the same points.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque
from collections.abc import Callable, Mapping

from typing import Any, cast

import orjson
from aiokafka import AIOKafkaConsumer, ConsumerRecord, TopicPartition

from hazmon import series, wire
from hazmon.registry import Registry

from hazmon.consumer_lag import consumer_lags
from recorder.influx import InfluxWriter

log = logging.getLogger(__name__)

RecordsToLines = Callable[[list[ConsumerRecord]], list[str]]
# Kafka answers a fetch once it holds FETCH_MIN_BYTES for the consumer or after FETCH_WAIT_MS: at 20 000 readings/s
# (~0.8 MB/s of ReadingBatch records) a fetch, a write and a commit every 0.5 s, not one per record or two that
# arrived (issue #18: 5.1 against 2.1 CPU-s per million readings in bench/recorder.py); InfluxDB gets a
# reading at most FETCH_WAIT_MS later for it.
FETCH_MIN_BYTES = 1024 * 1024
FETCH_WAIT_MS = 500


class ReadingLines:
    """``reading`` lines of ReadingBatch records; each point's tags are built once and reused."""

    def __init__(self, registry: Registry) -> None:
        self._registry = registry
        self._prefixes: dict[str, dict[str, str | None]] = {}   # enterprise → point → prefix (None: unknown)
        self.unknown = 0

    def set_registry(self, registry: Registry) -> None:
        """Tag readings by ``registry`` from the next batch on (a reloaded registry: new points, moved ones)."""
        self._registry = registry
        self._prefixes = {}

    def _prefix(self, enterprise: str, point: str) -> str | None:
        entry = self._registry.point(enterprise, point)
        prefix = None if entry is None else series.reading_prefix(enterprise, entry.site.id, point,
                                                                     entry.point.type.value)
        self._prefixes[enterprise][point] = prefix
        return prefix

    def __call__(self, records: list[ConsumerRecord]) -> list[str]:
        """The lines of a fetch of readings records: in one pass over all their readings when every record
        is well formed, its points known and registered, its values floats and its timestamps integers (nearly
        every fetch), else record by record."""
        prefixes: list[str | None] = []
        values: list[float] = []
        stamps: list[int] = []
        try:
            for record in records:
                batch = wire.decode(record.value)
                points, batch_stamps, batch_values = _columns(batch)
                prefixes += map(self._prefixes[batch["enterprise"]].__getitem__, points)
                values += batch_values
                stamps += batch_stamps
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            return lines_of(records, self._batch_lines)
        if None in prefixes or {*map(type, values)} - _FLOATS or {*map(type, stamps)} - _INTS:
            return lines_of(records, self._batch_lines)
        return [f"{prefix}{value!r} {ts}" for prefix, value, ts in zip(prefixes, values, stamps)]

    def _batch_lines(self, batch: wire.ReadingBatch) -> list[str]:
        """One record's lines, a reading at a time: looked up, converted and formatted."""
        enterprise, (points, stamps, values) = batch["enterprise"], _columns(batch)
        known = self._prefixes.setdefault(enterprise, {})
        lines: list[str] = []
        append = lines.append
        for point, ts, value in zip(points, stamps, values):
            prefix = known[point] if point in known else self._prefix(enterprise, point)
            if prefix is None:
                self.unknown += 1
                continue
            append(f"{prefix}{float(value)!r} {int(ts)}")
        return lines


_FLOATS, _INTS = {float}, {int}


def _columns(batch: Mapping[str, Any]) -> tuple[list[str], list[int], list[float]]:
    """A record's points, timestamps and values, which must be as many."""
    points, stamps, values = batch["points"], batch["ts"], batch["values"]
    if len(points) != len(stamps) or len(points) != len(values):
        raise ValueError("points, ts and values differ in length")
    return points, stamps, values


def lines_of(records: list[ConsumerRecord], record_lines: Callable[[Any], list[str]]) -> list[str]:
    """Lines of every record; a malformed record is logged and skipped, never stops the writer."""
    lines: list[str] = []
    for record in records:
        try:
            lines += record_lines(wire.decode(record.value))
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            log.error("malformed record skipped", extra={"topic": record.topic, "partition": record.partition,
                                                         "offset": record.offset, "error": repr(exc)})
    return lines


def ingest_stats_lines(records: list[ConsumerRecord]) -> list[str]:
    return lines_of(records, lambda stats: [series.ingest_stats_line(stats)])


def series_lines(records: list[ConsumerRecord]) -> list[str]:
    """The lines of ``wire.SeriesLines`` records, as their stage made them."""
    return lines_of(records, lambda record: [str(line) for line in cast(wire.SeriesLines, record)["lines"]])


class TopicWriter:
    def __init__(self, bootstrap: str, topic: str, group: str, influx: InfluxWriter, to_lines: RecordsToLines,
                 max_records: int = 2000, max_in_flight: int = 2) -> None:
        self._consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, group_id=group,
                                          enable_auto_commit=False, auto_offset_reset="earliest",
                                          max_partition_fetch_bytes=8 * 1024 * 1024,
                                          fetch_min_bytes=FETCH_MIN_BYTES, fetch_max_wait_ms=FETCH_WAIT_MS)
        self.topic = topic
        self._influx = influx
        self._to_lines = to_lines
        self._max_records = max_records
        self._max_in_flight = max_in_flight
        self.points_written = 0

    async def lags(self) -> list[wire.PartitionLag]:
        """Records behind on each assigned partition of the topic."""
        return await consumer_lags(self._consumer)

    async def run(self) -> None:
        """Fetch and encode the next batches while earlier ones are being written.

        Up to ``max_in_flight`` writes run at once; offsets are committed strictly in order, each
        after its own write and every earlier one succeeded.
        """
        await self._consumer.start()
        in_flight: deque[tuple[asyncio.Task, dict[TopicPartition, int], int]] = deque()
        try:
            while True:
                batches = await self._consumer.getmany(timeout_ms=100 if in_flight else 500,
                                                       max_records=self._max_records)
                records = [r for part in batches.values() for r in part]
                if records:
                    lines = self._to_lines(records)
                    offsets = {tp: part[-1].offset + 1 for tp, part in batches.items() if part}
                    in_flight.append((asyncio.create_task(self._write_until_accepted(lines)), offsets, len(lines)))
                while in_flight and (len(in_flight) >= self._max_in_flight or in_flight[0][0].done() or not records):
                    await self._commit_oldest(in_flight)
        finally:
            for task, _, _ in in_flight:
                task.cancel()
            await asyncio.gather(*(task for task, _, _ in in_flight), return_exceptions=True)
            await self._consumer.stop()

    async def _commit_oldest(self, in_flight: deque[tuple[asyncio.Task, dict[TopicPartition, int], int]]) -> None:
        task, offsets, points = in_flight.popleft()
        await task
        await self._consumer.commit(offsets)
        self.points_written += points
        log.debug("points written", extra={"topic": self.topic, "points": points})

    async def _write_until_accepted(self, lines: list[str]) -> None:
        """Offsets are committed only after a write succeeded, so a failing InfluxDB holds the topic back."""
        while True:
            try:
                await self._influx.write(lines)
                return
            except Exception as exc:  # noqa: BLE001 - InfluxDB down or failing (what it refuses is set aside): try again
                log.warning("influx write failed, retrying", extra={"topic": self.topic, "points": len(lines),
                                                                    "error": str(exc)})
                await asyncio.sleep(1.0)
