"""Alerting's own pipeline metrics (``pipeline_lag``, hazmon.series; docs/dashboards.md): every
``alerting_metrics_s``, the lag of each partition of its alarm log (transitions and actions), as lines
on ``hazmon.series.v1`` for the recorder to write, like alerting's other series."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Protocol

from hazmon import series, wire

from alerting.series_topic import SeriesTopic

log = logging.getLogger(__name__)


class Lagging(Protocol):
    async def lags(self) -> list[wire.PartitionLag]: ...


class AlertingMetrics:
    def __init__(self, series_topic: SeriesTopic, alarm_log: Lagging, now_ms: Callable[[], int]) -> None:
        self.series_topic = series_topic
        self.alarm_log = alarm_log
        self.now_ms = now_ms
        self.instance = wire.instance_name()

    async def take(self, now_ms: int) -> wire.PipelineMetrics:
        """The period's record."""
        return wire.PipelineMetrics(v=wire.WIRE_VERSION, component="alerting", instance=self.instance, ts=now_ms,
                                    lags=await self.alarm_log.lags())

    async def run(self, period_s: float) -> None:
        """Every ``period_s``, the period's lines onto the series topic."""
        while True:
            await asyncio.sleep(period_s)
            try:
                self.series_topic.submit(series.pipeline_lines(await self.take(self.now_ms())))
            except Exception as exc:  # noqa: BLE001 - Kafka busy or away: the next period tries again
                log.warning("pipeline metrics not reported", extra={"error": repr(exc)[:300]})
