"""Counters per enterprise and reason, published periodically to the ingest-stats topic; and the
adapter's pipeline metrics (MQTT → Kafka latency, messages in flight) to the pipeline-metrics topic.

The latency of a flush is from its oldest reading batch's receive time (``ReadingBatch.recv_ms``, the
first MQTT message of the device in the flush) to Kafka's acknowledgement of the whole flush: one
sample per flush, summed up per period by ``wire.latency_of``. Refusals are not repeated there:
they are the ingest-stats counters (``platform_ingest`` in InfluxDB)."""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field

from hazmon import series, wire
from hazmon.wire import WIRE_VERSION


@dataclass(slots=True)
class EnterpriseCounts:
    accepted: int = 0
    duplicates: int = 0
    gaps: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    def add(self, other: EnterpriseCounts) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.gaps += other.gaps
        self.refused.update(other.refused)


@dataclass(slots=True)
class IngestCounters:
    """One window of counts; ``records`` turns it into ingest-stats records and starts a new one."""

    by_enterprise: dict[str, EnterpriseCounts] = field(default_factory=dict)

    def of(self, enterprise: str) -> EnterpriseCounts:
        counts = self.by_enterprise.get(enterprise)
        if counts is None:
            counts = self.by_enterprise[enterprise] = EnterpriseCounts()
        return counts

    def merge(self, other: IngestCounters) -> None:
        for enterprise, counts in other.by_enterprise.items():
            self.of(enterprise).add(counts)

    def take_records(self, window_end_ms: int) -> list[dict]:
        records = [{"v": WIRE_VERSION, "enterprise": enterprise, "window_end_ms": window_end_ms,
                    "accepted": c.accepted, "duplicates": c.duplicates, "gaps": c.gaps, "refused": dict(c.refused)}
                   for enterprise, c in sorted(self.by_enterprise.items())]
        self.by_enterprise = {}
        return records


@dataclass(slots=True)
class FlushLatencies:
    """One period of flush latencies; ``take_record`` turns it into a ``wire.PipelineMetrics`` and starts a new one."""

    samples: list[float] = field(default_factory=list)
    instance: str = field(default_factory=wire.instance_name)

    def flushed(self, received_ms: Iterable[int], acked_ms: int) -> None:
        """A flush whose reading batches were received at ``received_ms`` was acknowledged by Kafka at ``acked_ms``."""
        oldest = min(received_ms, default=None)
        if oldest is not None:
            self.samples.append(float(acked_ms - oldest))

    def take_record(self, now_ms: int, in_flight: int) -> wire.PipelineMetrics:
        record = wire.PipelineMetrics(v=WIRE_VERSION, component="ingest", instance=self.instance, ts=now_ms, lags=[],
                                      gauges={series.IN_FLIGHT: float(in_flight)})
        latency = wire.latency_of(self.samples)
        self.samples = []
        if latency is not None:
            record["latency"] = latency
        return record
