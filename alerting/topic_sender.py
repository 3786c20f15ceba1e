"""Records alerting hands to other stages through Kafka, sent in order off the alarm path.

:meth:`TopicSender.enqueue` is called from the service's change callback, which is synchronous and on
the alarm path: the record is only queued there, and one task sends the queue in order through an
idempotent producer, so records of one key reach their partition in the order they were queued.
While Kafka is away the records wait in memory (the alarm log waits with them: nothing new is folded
without Kafka); what is queued at :meth:`TopicSender.stop` is sent then. Used by
``alerting.change_topic`` (for the uplink) and ``alerting.series_topic`` (for the recorder).
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from aiokafka import AIOKafkaProducer

log = logging.getLogger(__name__)


class TopicSender:
    def __init__(self, bootstrap: str, topic: str, task_name: str, *, request_timeout_ms: int = 40_000) -> None:
        self.topic = topic
        self._task_name = task_name
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          linger_ms=5, request_timeout_ms=request_timeout_ms)
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._queued = asyncio.Event()
        self._task: asyncio.Task | None = None
        self.sent = 0           # records the producer took since start

    @property
    def queued(self) -> int:
        """Records queued and not yet taken by the producer."""
        return len(self._queue)

    async def start(self) -> None:
        await self._producer.start()
        self._task = asyncio.create_task(self._send_loop(), name=self._task_name)

    def enqueue(self, key: bytes, value: bytes) -> None:
        """Queue one record; never blocks."""
        self._queue.append((key, value))
        self._queued.set()

    async def _send_loop(self) -> None:
        while True:
            await self._queued.wait()
            await self._send_queued()

    async def _send_queued(self) -> None:
        """Send what is queued, oldest first; a record leaves the queue once the producer took it."""
        self._queued.clear()
        while self._queue:
            key, value = self._queue[0]
            try:
                await self._producer.send(self.topic, value, key=key)
            except Exception:  # noqa: BLE001 - Kafka away: keep the record, try again
                log.exception("record not sent, retrying", extra={"topic": self.topic})
                await asyncio.sleep(1.0)
                continue
            self._queue.popleft()
            self.sent += 1

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._send_queued()
        await self._producer.stop()
