"""Alerting's InfluxDB lines (alarm records, risk colours, its pipeline metrics) onto ``topics.SERIES``,
for the recorder to write (docs/architecture.md, "InfluxDB"): alerting itself never writes InfluxDB.

:meth:`SeriesTopic.submit` is called on the alarm path and only queues; one task sends the queue in
order, in ``wire.SeriesLines`` records of at most ``RECORD_LINES`` lines keyed ``alerting`` (one
partition: the lines reach the recorder in the order they were made, as they would have reached
InfluxDB). While Kafka is away the lines wait in memory (the alarm log waits with them: no new
alarm is folded without Kafka); what is queued at :meth:`SeriesTopic.stop` is sent then.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from aiokafka import AIOKafkaProducer

from hazmon import wire

log = logging.getLogger(__name__)
RECORD_LINES = 1000     # lines per record: a risk snapshot of a province stays far below Kafka's 1 MB records
KEY = b"alerting"


class SeriesTopic:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          linger_ms=5)
        self._queue: deque[str] = deque()
        self._queued = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sent = 0           # lines the producer took since start

    @property
    def queued(self) -> int:
        """Lines submitted and not yet taken by the producer."""
        return len(self._queue)

    async def start(self) -> None:
        await self._producer.start()
        self._task = asyncio.create_task(self._send_loop(), name="series-lines")

    def submit(self, lines: list[str]) -> None:
        """Queue ``lines`` for the recorder; never blocks."""
        if lines:
            self._queue.extend(lines)
            self._queued.set()

    async def _send_loop(self) -> None:
        while True:
            await self._queued.wait()
            await self._send_queued()

    async def _send_queued(self) -> None:
        """Send what is queued, oldest first; lines leave the queue once the producer took their record."""
        self._queued.clear()
        while self._queue:
            lines = [self._queue[i] for i in range(min(RECORD_LINES, len(self._queue)))]
            record = wire.SeriesLines(v=wire.WIRE_VERSION, component="alerting", lines=lines)
            try:
                await self._producer.send(self.topic, wire.encode(record), key=KEY)
            except Exception:  # noqa: BLE001 - Kafka away: keep the lines, try again
                log.exception("series lines not sent, retrying", extra={"topic": self.topic, "lines": len(lines)})
                await asyncio.sleep(1.0)
                continue
            for _ in lines:
                self._queue.popleft()
            self.sent += len(lines)

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._send_queued()
        await self._producer.stop()
