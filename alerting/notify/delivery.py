"""Delivery of notifications to HTTP channels, with retry, back-off and a dead-letter file.

Each channel has its own two lanes, each a queue and a worker: fire alarms on one, everything else
on the other, so that no backlog of ordinary notifications delays a fire alarm, and one channel's
outage neither blocks the others nor reorders its own messages. A message the receiver cannot take
now (no connection, a timeout, HTTP 5xx, 408 or 429, an answer that is not the robot's) is retried
after each back-off step and then at the last step until it is taken, however long the outage: a
confirmed alarm is never given up. One the receiver refuses for good (another 4xx, a robot's
errcode: a wrong URL, token or keyword) is appended to the dead-letter file (JSON lines) and logged.
A lane already holding ``queue_max`` messages takes no more (memory stays bounded): the message stays
in the ledger's outbox, which queues it again when the lane has room (``Outbox.sweep``). A worker
never ends on an error: whatever a delivery raises is logged and the message dead-lettered. Once
delivered or dead-lettered, ``settled`` is told (the outbox then forgets it). URLs are logged
without their path and query, where robots carry their access tokens.

A DingTalk channel with a ``secret`` (the robot's 加签 setting) signs every request: ``timestamp``
(ms) and ``sign`` = URL-encoded base64(HMAC-SHA256(secret, f"{timestamp}\n{secret}")) appended to
its URL as query parameters. An escalation step @mentions the people on duty for its tier
(``duty_mobiles``, 1 county desk, 2 prefecture) on the robots (``formats``).
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import logging
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import quote_plus, urlsplit

import aiohttp
import orjson

from alerting.notify.formats import PAYLOADS
from alerting.notify.message import Notification
from alerting.text import Texts

log = logging.getLogger(__name__)
Settled = Callable[[str, Notification], Awaitable[None]]   # (channel key, notification) delivered or dead-lettered
LANES = ("fire", "other")


@dataclass(frozen=True, slots=True)
class Channel:
    """Where notifications go; ``min_tier`` > 0 receives only escalations to that tier and above;
    ``secret`` signs a DingTalk robot's requests (加签), never shown in logs or reprs."""

    format: str
    url: str
    min_tier: int = 0
    secret: str | None = field(default=None, repr=False)

    def __post_init__(self) -> None:
        if self.format not in PAYLOADS:
            raise ValueError(f"unknown notification format {self.format!r}: one of {', '.join(PAYLOADS)}")
        if self.secret and not self.format.startswith("dingtalk"):
            raise ValueError(f"a signing secret is for DingTalk robots, not {self.format!r}")

    def post_url(self, now_ms: int) -> str:
        """The URL to post to at ``now_ms``: a DingTalk robot with a secret gets ``timestamp`` and ``sign``."""
        if not self.secret:
            return self.url
        return f"{self.url}{'&' if urlsplit(self.url).query else '?'}timestamp={now_ms}&sign={dingtalk_sign(self.secret, now_ms)}"

    @property
    def key(self) -> str:
        """The channel's name in the outbox."""
        return f"{self.format} {self.url}"

    @property
    def where(self) -> str:
        """The URL as logged: scheme and host only (a robot's token is in its query)."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc}"


def dingtalk_sign(secret: str, timestamp_ms: int) -> str:
    """DingTalk robot signing (加签): URL-encoded base64 of HMAC-SHA256(secret, "timestamp\nsecret")."""
    digest = hmac.new(secret.encode(), f"{timestamp_ms}\n{secret}".encode(), hashlib.sha256).digest()
    return quote_plus(base64.b64encode(digest).decode())


class DeliveryRefused(Exception):
    """The receiver answered and did not take the message; ``permanent``: retrying cannot help."""

    def __init__(self, message: str, permanent: bool = False) -> None:
        super().__init__(message)
        self.permanent = permanent


TRANSIENT_STATUSES = frozenset({408, 425, 429})   # 4xx answers that say "later", not "never"


class ChannelWorker:
    """One lane of one channel: a queue delivered in order."""

    def __init__(self, channel: Channel, lane: str, session: aiohttp.ClientSession, texts: Texts,
                 backoff_s: tuple[float, ...], deadletter: Path, settled: Settled, queue_max: int,
                 duty_mobiles: Mapping[int, Sequence[str]]) -> None:
        self.channel = channel
        self.lane = lane
        self._session = session
        self._texts = texts
        self._backoff_s = backoff_s
        self._deadletter = deadletter
        self._settled = settled
        self._queue_max = queue_max
        self._duty_mobiles = duty_mobiles
        self._queue: asyncio.Queue[Notification] = asyncio.Queue()
        self.holding: set[tuple[str, int]] = set()   # (alarm id, version) of every change queued or under way
        self.delivered = 0
        self.dead = 0

    @property
    def queued(self) -> int:
        return self._queue.qsize()

    def put(self, notification: Notification) -> bool:
        """Queue ``notification``; False when the lane is full (it then stays in the outbox for a later sweep)."""
        if self._queue.qsize() >= self._queue_max:
            log.warning("notification lane full: kept in the outbox until the lane has room", extra={
                "channel": self.channel.format, "url": self.channel.where, "lane": self.lane,
                "alarms": [c.alarm["id"] for c in notification.changes]})
            return False
        self.holding.update(change.key for change in notification.changes)
        self._queue.put_nowait(notification)
        return True

    async def run(self) -> None:
        while True:
            notification = await self._queue.get()
            try:
                await self._deliver(notification)
                await self._settled(self.channel.key, notification)
            except Exception:  # noqa: BLE001 - a worker must outlive any one message
                log.exception("notification worker error", extra={"channel": self.channel.format,
                                                                   "url": self.channel.where, "lane": self.lane})
            finally:
                self.holding.difference_update(change.key for change in notification.changes)
                self._queue.task_done()

    async def drain(self) -> None:
        await self._queue.join()

    def _payload(self, notification: Notification) -> dict:
        """The channel's message; an escalation step @mentions the people on duty for its tier."""
        mobiles = tuple(self._duty_mobiles.get(notification.tier, ())) if notification.tier else ()
        return PAYLOADS[self.channel.format](notification, self._texts, mobiles)

    async def _deliver(self, notification: Notification) -> None:
        payload = self._payload(notification)
        body = orjson.dumps(payload)
        attempt = 0
        while True:   # until taken or refused for good: a receiver down for hours still gets it afterwards
            try:
                await self._post(body)
                self.delivered += 1
                log.info("notification delivered", extra={"channel": self.channel.format, "enterprise": notification.enterprise,
                                                          "alarms": len(notification.changes), "attempt": attempt + 1,
                                                          "lane": self.lane})
                return
            except DeliveryRefused as exc:
                if exc.permanent:
                    self._dead_letter(payload, notification, f"refused: {exc}")
                    return
                error = str(exc)
            except (aiohttp.ClientError, TimeoutError) as exc:
                error = str(exc) or type(exc).__name__
            log.warning("notification not taken, retrying", extra={"channel": self.channel.format, "url": self.channel.where,
                                                                   "attempt": attempt + 1, "error": error})
            await asyncio.sleep(self._backoff_s[min(attempt, len(self._backoff_s) - 1)] if self._backoff_s else 1.0)
            attempt += 1

    async def _post(self, body: bytes) -> None:
        url = self.channel.post_url(time.time_ns() // 1_000_000)   # DingTalk checks the timestamp against its clock
        async with self._session.post(url, data=body, headers={"Content-Type": "application/json"},
                                      timeout=aiohttp.ClientTimeout(total=10)) as response:
            text = await response.read()
            if response.status >= 300:
                permanent = 400 <= response.status < 500 and response.status not in TRANSIENT_STATUSES
                raise DeliveryRefused(f"HTTP {response.status}", permanent)
            if self.channel.format != "webhook":
                try:
                    answer = orjson.loads(text or b"{}")
                except orjson.JSONDecodeError:
                    answer = None
                if not isinstance(answer, dict):   # a proxy's page, not the robot's answer: not known delivered
                    raise DeliveryRefused(f"HTTP {response.status} with an answer that is not a JSON object")
                if answer.get("errcode", 0) != 0:  # DingTalk and WeCom answer 200 with an errcode: URL, token, keyword
                    raise DeliveryRefused(f"errcode {answer.get('errcode')}: {answer.get('errmsg')}", permanent=True)

    def _dead_letter(self, payload: dict, notification: Notification, reason: str) -> None:
        self.dead += 1
        self._deadletter.parent.mkdir(parents=True, exist_ok=True)
        record = {"failed_at_ms": time.time_ns() // 1_000_000, "channel": self.channel.format, "url": self.channel.url,
                  "enterprise": notification.enterprise, "alarms": [c.alarm["id"] for c in notification.changes],
                  "reason": reason, "payload": payload}
        with self._deadletter.open("ab") as handle:
            handle.write(orjson.dumps(record) + b"\n")
        log.error("notification dead-lettered", extra={"channel": self.channel.format, "url": self.channel.where,
                                                       "enterprise": notification.enterprise,
                                                       "alarms": [c.alarm["id"] for c in notification.changes],
                                                       "reason": reason, "file": str(self._deadletter)})


async def _nothing(channel: str, notification: Notification) -> None:
    return None


class Deliverer:
    """Fans each notification out to every channel's worker of its lane."""

    def __init__(self, channels: list[Channel], texts: Texts, backoff_s: tuple[float, ...], deadletter: Path, *,
                 queue_max: int, settled: Settled = _nothing, duty_mobiles: Mapping[int, Sequence[str]] | None = None) -> None:
        self.channels = channels
        self._texts = texts
        self._backoff_s = backoff_s
        self._deadletter = deadletter
        self._settled = settled
        self._queue_max = queue_max
        self._duty_mobiles = duty_mobiles or {}
        self.workers: list[ChannelWorker] = []
        self.tasks: list[asyncio.Task] = []
        self._lanes: dict[tuple[str, str], ChannelWorker] = {}
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession()
        self.workers = [ChannelWorker(c, lane, self._session, self._texts, self._backoff_s, self._deadletter, self._settled,
                                      self._queue_max, self._duty_mobiles) for c in self.channels for lane in LANES]
        self._lanes = {(w.channel.key, w.lane): w for w in self.workers}
        self.tasks = [asyncio.create_task(w.run(), name=f"notify-{w.channel.format}-{w.lane}") for w in self.workers]

    async def close(self) -> None:
        for task in self.tasks:
            task.cancel()
        await asyncio.gather(*self.tasks, return_exceptions=True)
        if self._session is not None:
            await self._session.close()

    def wants(self, channel: Channel, tier: int) -> bool:
        return tier >= channel.min_tier

    def send(self, notification: Notification) -> None:
        for channel in self.channels:
            if self.wants(channel, notification.tier):
                self.send_to(channel.key, notification)

    def send_to(self, channel_key: str, notification: Notification) -> bool:
        """Queue ``notification`` for one channel; False when no such channel is configured (a full lane
        keeps it in the outbox: still True)."""
        lane = "fire" if any(c.fire for c in notification.changes) else "other"
        worker = self._lanes.get((channel_key, lane))
        if worker is None:
            return False
        worker.put(notification)
        return True

    def holds(self, channel_key: str, key: tuple[str, int]) -> bool:
        """Whether a change (alarm id, version) is queued or under way on one channel."""
        return any(key in w.holding for w in self.workers if w.channel.key == channel_key)

    async def drain(self) -> None:
        await asyncio.gather(*(w.drain() for w in self.workers))
