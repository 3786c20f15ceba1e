"""Every change of an alarm, as the API shows it, onto ``topics.ALARM_CHANGES`` for the uplink (docs/uplink.md).

The service calls :meth:`ChangeTopic.submit` from its change callback, which is synchronous and on the
alarm path: the record is only queued there, and one task sends the queue in order through an
idempotent producer, so one alarm's versions reach its partition (keyed by alarm id) in the order
they were folded. The queue is sent whole at :meth:`ChangeTopic.stop`.
"""

from __future__ import annotations

import asyncio
import logging
from collections import deque

from aiokafka import AIOKafkaProducer

from hazmon import wire

from alerting.model import AlarmEvent

log = logging.getLogger(__name__)


class ChangeTopic:
    def __init__(self, bootstrap: str, topic: str) -> None:
        self.topic = topic
        self._producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all",
                                          linger_ms=5)
        self._queue: deque[tuple[bytes, bytes]] = deque()
        self._queued = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def start(self) -> None:
        await self._producer.start()
        self._task = asyncio.create_task(self._send_loop(), name="alarm-changes")

    def submit(self, event: AlarmEvent, alarm_json: dict) -> None:
        """Queue the change ``event`` made, with the alarm's API view after it."""
        change: wire.AlarmChange = {"v": wire.WIRE_VERSION, "version": event.alarm.revision, "change": event.kind,
                                    "ts": event.ts, "by": event.by, "alarm": alarm_json}
        self._queue.append((event.alarm.id.encode(), wire.encode(change)))
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
                log.exception("alarm change not sent, retrying", extra={"topic": self.topic})
                await asyncio.sleep(1.0)
                continue
            self._queue.popleft()

    async def stop(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self._send_queued()
        await self._producer.stop()
