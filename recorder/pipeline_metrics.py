"""Pipeline metrics into InfluxDB (``pipeline`` and ``pipeline_lag``, hazmon.series; docs/dashboards.md).

Ingest and the rules worker publish one ``wire.PipelineMetrics`` per period on
``hazmon.pipeline-metrics.v1``; the recorder writes them with a ``TopicWriter`` like the ingest counters
(``pipeline_metrics_lines``). Alerting's own come as lines on ``hazmon.series.v1``. The recorder's own
period, every ``alerting_metrics_s``, goes straight to its InfluxDB writer (``RecorderMetrics``): the
lag of each partition its topic writers read, the lines waiting for InfluxDB, the lines InfluxDB
refused since start, and the points the writers wrote per second.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Sequence
from typing import cast

from aiokafka import ConsumerRecord

from hazmon import series, wire

from recorder.influx import InfluxWriter
from recorder.topic_writer import TopicWriter, lines_of

log = logging.getLogger(__name__)


def pipeline_metrics_lines(records: list[ConsumerRecord]) -> list[str]:
    return lines_of(records, lambda record: series.pipeline_lines(cast(wire.PipelineMetrics, record)))


class RecorderMetrics:
    def __init__(self, influx: InfluxWriter, writers: Sequence[TopicWriter], now_ms: Callable[[], int]) -> None:
        self.influx = influx
        self.now_ms = now_ms
        self.writers = writers
        self.instance = wire.instance_name()
        self._written = 0
        self._since = time.monotonic()

    async def take(self, now_ms: int) -> wire.PipelineMetrics:
        """The period's record; the next period starts."""
        lags = [lag for writer in self.writers for lag in await writer.lags()]
        written, now = sum(w.points_written for w in self.writers), time.monotonic()
        points_per_s = (written - self._written) / max(now - self._since, 1e-3)
        self._written, self._since = written, now
        return wire.PipelineMetrics(v=wire.WIRE_VERSION, component="recorder", instance=self.instance, ts=now_ms,
                                    lags=lags, gauges={series.INFLUX_QUEUE: float(self.influx.queued),
                                                       series.POINTS_PER_S: points_per_s,
                                                       series.SET_ASIDE: float(self.influx.set_aside)})

    async def run(self, period_s: float) -> None:
        """Every ``period_s``, the period's lines into the InfluxDB writer's queue."""
        self._written, self._since = sum(w.points_written for w in self.writers), time.monotonic()
        while True:
            await asyncio.sleep(period_s)
            try:
                self.influx.submit(series.pipeline_lines(await self.take(self.now_ms())))
            except Exception as exc:  # noqa: BLE001 - Kafka busy or away: the next period tries again
                log.warning("pipeline metrics not reported", extra={"error": repr(exc)[:300]})
