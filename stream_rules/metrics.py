"""The rules worker's pipeline metrics: its input lag per partition and its batch latency, one
``wire.PipelineMetrics`` per period on ``topics.PIPELINE_METRICS`` (alerting writes them to InfluxDB).

Latency of a batch: from its oldest record's arrival at ingest (``recv_ms``, the time ingest received
the MQTT message) to the moment the batch's transitions were handed to Kafka, before its commit. It is
measured on every batch, those without transitions too (the time an alarm would have taken): one pass
over the batch's receive times, one number kept. The period's numbers are summed up by
``wire.latency_of`` (p50, p99, max over the batches).

Lag of an input partition: its end (the last stable offset, ``stream_rules.end_offsets``) minus the next
offset Faust hands to an agent; the deadman's ticks are no input. Asked of the broker once per period
(by a consumer of its own that ends with the process).

Gauge ``rules_set_aside``: the input records this process dead-lettered since it started (records it cannot
evaluate, ``stream_rules.dead_letters``); it grows only when a producer or the engine is at fault.

The record is sent outside any transaction (like the deadman's ticks): a metric is no output of the
rules, and an aborted batch's latency was still paid.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Collection, Sequence
from operator import itemgetter
from typing import cast

import faust
from faust.transport.consumer import Consumer

from hazmon import series, wire
from stream_rules.end_offsets import EndOffsets, next_to_read

log = logging.getLogger("stream_rules.metrics")
RECV_MS = itemgetter("recv_ms")


class RulesMetrics:
    def __init__(self, app: faust.App, inputs: Collection[str], topic: str) -> None:
        self.app = app
        self.inputs = frozenset(inputs)
        self.topic = topic
        self.instance = wire.instance_name()
        self._latencies: list[float] = []   # one per batch since the last report
        self.set_aside_total = 0             # input records dead-lettered since the start
        self._ends = EndOffsets(app)

    def batch_done(self, records: Sequence[dict], done_ms: int) -> None:
        """A batch of input ``records`` whose transitions were handed to Kafka at ``done_ms``."""
        try:
            oldest = min(map(RECV_MS, records))    # a quarter of the time of a pass checking each record
        except (KeyError, TypeError, ValueError):   # a record without one, or no record
            oldest = min((r["recv_ms"] for r in records if isinstance(r.get("recv_ms"), int)), default=None)
        if oldest is not None:
            self._latencies.append(float(done_ms - oldest))

    def set_aside(self, records: int) -> None:
        """``records`` input records of a batch were dead-lettered."""
        self.set_aside_total += records

    async def lags(self) -> list[wire.PartitionLag]:
        consumer = cast(Consumer, self.app.consumer)
        assigned = sorted(tp for tp in consumer.assignment() if tp.topic in self.inputs)
        ends = await self._ends.of(assigned)
        return [wire.PartitionLag(topic=tp.topic, partition=tp.partition, lag=max(0, ends[tp] - next_to_read(consumer, tp)))
                for tp in assigned]

    async def take(self, now_ms: int) -> wire.PipelineMetrics:
        """The period's record; the next period starts."""
        record = wire.PipelineMetrics(v=wire.WIRE_VERSION, component="rules", instance=self.instance, ts=now_ms,
                                      lags=await self.lags(), gauges={series.RULES_SET_ASIDE: float(self.set_aside_total)})
        latency = wire.latency_of(self._latencies)
        self._latencies = []
        if latency is not None:
            record["latency"] = latency
        return record

    async def report(self) -> None:
        """Send the period's record (call it every ``rules_metrics_s``). Skipped while partitions move."""
        if self.app.rebalancing or self.app.in_recovery:
            return
        try:
            record = await self.take(int(time.time() * 1000))
            await self.app.producer.send(self.topic, b"rules", wire.encode(record), None, None, None)
        except Exception as exc:  # noqa: BLE001 - Kafka busy or away: a metric is never worth the worker
            log.warning("pipeline metrics not reported", extra={"error": repr(exc)[:300]})
