"""One recorder: a :class:`TopicWriter` per Kafka topic that goes to InfluxDB, one InfluxDB writer, its
own pipeline metrics, and the registry (readings are tagged by it) reloaded while it runs.

The consumer groups are ``alerting_group`` plus the topic's suffix, the names they had while alerting
wrote InfluxDB: an upgraded installation's recorder resumes from the offsets alerting committed.
"""

from __future__ import annotations

import asyncio
import logging
import time

from hazmon.kafka_topics import ensure_topics
from hazmon.registry import Registry
from hazmon.registry.watch import RegistryWatch
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics

from recorder.influx import InfluxWriter
from recorder.pipeline_metrics import RecorderMetrics, pipeline_metrics_lines
from recorder.topic_writer import ReadingLines, TopicWriter, ingest_stats_lines, series_lines

log = logging.getLogger(__name__)


def now_ms() -> int:
    return int(time.time() * 1000)


class Recorder:
    def __init__(self, settings: Settings, registry: Registry) -> None:
        self.settings = settings
        self.names = PlatformTopics.of(settings)
        self.influx = InfluxWriter(settings)
        self.reading_lines = ReadingLines(registry)
        self.registry_watch = RegistryWatch(settings.registry_dir, registry)
        self.registry_watch.listeners.append(self.reading_lines.set_registry)
        group, bootstrap = settings.alerting_group, settings.kafka_bootstrap
        self.writers = [
            TopicWriter(bootstrap, self.names.readings, f"{group}-readings", self.influx, self.reading_lines),
            TopicWriter(bootstrap, self.names.ingest_stats, f"{group}-stats", self.influx, ingest_stats_lines),
            TopicWriter(bootstrap, self.names.metrics, f"{group}-metrics", self.influx, pipeline_metrics_lines),
            TopicWriter(bootstrap, self.names.series, f"{group}-series", self.influx, series_lines),
        ]
        self.metrics = RecorderMetrics(self.influx, self.writers, now_ms)
        self._tasks: list[asyncio.Task] = []

    @property
    def points_written(self) -> int:
        """Points the topic writers wrote (and committed) since start."""
        return sum(writer.points_written for writer in self.writers)

    async def start(self) -> None:
        await ensure_topics(self.settings, [self.names.readings, self.names.ingest_stats, self.names.metrics,
                                            self.names.series])
        await self.influx.ensure_database()
        await self.influx.start()
        self._tasks = [asyncio.create_task(writer.run(), name=f"writer-{writer.topic}") for writer in self.writers]
        self._tasks += [asyncio.create_task(self.metrics.run(self.settings.alerting_metrics_s), name="pipeline-metrics"),
                        asyncio.create_task(self.registry_watch.watch(self.settings.alerting_registry_poll_s),
                                            name="registry-watch")]
        for task in self._tasks:
            task.add_done_callback(self._log_crash)

    def dead_tasks(self) -> list[str]:
        """Names of the recorder's loops that have stopped (a crashed one is also logged with its error)."""
        return [task.get_name() for task in self._tasks if task.done()]

    @staticmethod
    def _log_crash(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("recorder loop stopped", exc_info=task.exception(), extra={"task": task.get_name()})

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        await self.influx.close()
