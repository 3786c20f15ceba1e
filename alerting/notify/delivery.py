"""Delivery of notifications to HTTP channels, with retry, back-off and a dead-letter file.

Each channel has its own queue and worker: one channel's outage neither blocks the others nor
reorders its own messages. A message still refused after every back-off step is appended to the
dead-letter file (JSON lines) and logged.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson

from alerting.notify.formats import PAYLOADS
from alerting.notify.message import Notification
from alerting.text import Texts

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Channel:
    """Where notifications go; ``min_tier`` > 0 receives only escalations to that tier and above."""

    format: str
    url: str
    min_tier: int = 0

    def __post_init__(self) -> None:
        if self.format not in PAYLOADS:
            raise ValueError(f"unknown notification format {self.format!r}: one of {', '.join(PAYLOADS)}")


class DeliveryRefused(Exception):
    pass


class ChannelWorker:
    def __init__(self, channel: Channel, session: aiohttp.ClientSession, texts: Texts,
                 backoff_s: tuple[float, ...], deadletter: Path) -> None:
        self.channel = channel
        self._session = session
        self._texts = texts
        self._backoff_s = backoff_s
        self._deadletter = deadletter
        self._queue: asyncio.Queue[Notification] = asyncio.Queue()
        self.delivered = 0
        self.dead = 0

    def put(self, notification: Notification) -> None:
        self._queue.put_nowait(notification)

    async def run(self) -> None:
        while True:
            notification = await self._queue.get()
            await self._deliver(notification)
            self._queue.task_done()

    async def drain(self) -> None:
        await self._queue.join()

    async def _deliver(self, notification: Notification) -> None:
        payload = PAYLOADS[self.channel.format](notification, self._texts)
        body = orjson.dumps(payload)
        for attempt, delay_s in enumerate((*self._backoff_s, None)):
            try:
                await self._post(body)
                self.delivered += 1
                log.info("notification delivered", extra={"channel": self.channel.format, "enterprise": notification.enterprise,
                                                          "alarms": len(notification.changes), "attempt": attempt + 1})
                return
            except (aiohttp.ClientError, TimeoutError, DeliveryRefused) as exc:
                log.warning("notification refused", extra={"channel": self.channel.format, "url": self.channel.url,
                                                            "attempt": attempt + 1, "error": str(exc) or type(exc).__name__})
                if delay_s is not None:
                    await asyncio.sleep(delay_s)
        self._dead_letter(payload, notification)

    async def _post(self, body: bytes) -> None:
        async with self._session.post(self.channel.url, data=body, headers={"Content-Type": "application/json"},
                                      timeout=aiohttp.ClientTimeout(total=10)) as response:
            text = await response.read()
            if response.status >= 300:
                raise DeliveryRefused(f"HTTP {response.status}")
            if self.channel.format != "webhook":
                answer = orjson.loads(text or b"{}")
                if answer.get("errcode", 0) != 0:  # DingTalk and WeCom answer 200 with an errcode
                    raise DeliveryRefused(f"errcode {answer.get('errcode')}: {answer.get('errmsg')}")

    def _dead_letter(self, payload: dict, notification: Notification) -> None:
        self.dead += 1
        self._deadletter.parent.mkdir(parents=True, exist_ok=True)
        record = {"failed_at_ms": time.time_ns() // 1_000_000, "channel": self.channel.format, "url": self.channel.url,
                  "enterprise": notification.enterprise, "alarms": [c.alarm["id"] for c in notification.changes],
                  "payload": payload}
        with self._deadletter.open("ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
        log.error("notification dead-lettered", extra={"channel": self.channel.format, "enterprise": notification.enterprise,
                                                       "alarms": len(notification.changes), "file": str(self._deadletter)})


class Deliverer:
    """Fans each notification out to every channel's worker."""

    def __init__(self, channels: list[Channel], texts: Texts, backoff_s: tuple[float, ...], deadletter: Path) -> None:
        self._channels = channels
        self._texts = texts
        self._backoff_s = backoff_s
        self._deadletter = deadletter
        self.workers: list[ChannelWorker] = []
        self._tasks: list[asyncio.Task] = []
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.workers = [ChannelWorker(c, self._session, self._texts, self._backoff_s, self._deadletter)
                        for c in self._channels]
        self._tasks = [asyncio.create_task(w.run(), name=f"notify-{w.channel.format}") for w in self.workers]

    async def close(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def send(self, notification: Notification) -> None:
        tier = notification.tier
        for worker in self.workers:
            if tier >= worker.channel.min_tier:
                worker.put(notification)

    async def drain(self) -> None:
        await asyncio.gather(*(w.drain() for w in self.workers))
