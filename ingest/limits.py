"""Rate limits per enterprise and per device (data standard §6 rev. 1.1): one misbehaving gateway
slows nobody else.

Token buckets, each holding ``ingest_rate_burst_s`` seconds' worth: an enterprise's messages and
payload bytes, a registered device's messages, and the answers on an enterprise's errors topics and
the log lines about its refusals (a gateway starting up with a wrong configuration gets every answer
at first; a flood of bad messages no longer writes a log line each). The burst lets
through at once what the broker kept for the adapter while it was away (a 10-minute outage of a
device sending once a second is 600 messages): the adapter sees when a message arrives, not when
it was published. A message over a limit is acknowledged, counted and answered (``rate_limited``)
but neither parsed nor written, so a flood costs the adapter little more than receiving it.
Buckets exist only for registered enterprises and devices: their number is bounded by the
registry, whatever topics a gateway makes up.

An enterprise read through a broker session of its own (``ingest.session_plan``) is not refused
for its own rates: its messages are taken, running its buckets into debt, and its session is not
read until they are out of it (``spend``), so its backlog waits in its own broker queue; what the
session had already received waits unparsed until then (``debt_s``). Devices,
and enterprises sharing a session, are refused as above: pausing would hold up their neighbours.
"""

from __future__ import annotations

from dataclasses import dataclass

from hazmon.settings import Settings
from ingest.directory import DeviceDirectory

RATE_PAUSE_S = 0.05  # a session out of debt stays paused this much longer: not one pause per message


@dataclass(slots=True)
class TokenBucket:
    """``rate`` tokens per second, at most ``capacity`` in store."""

    rate: float
    capacity: float
    tokens: float
    stamp: float

    @classmethod
    def full(cls, rate: float, seconds: float, now: float) -> TokenBucket:
        capacity = max(rate * seconds, 1.0)
        return cls(rate, capacity, capacity, now)

    def refill(self, now: float) -> float:
        self.tokens = min(self.capacity, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        return self.tokens


class RateLimits:
    """Which messages and answers are within their enterprise's and device's rates; 0 turns a limit off."""

    def __init__(self, settings: Settings) -> None:
        self._limits = {"scope_enterprise_msgs": settings.ingest_enterprise_max_msgs_s,
                        "scope_enterprise_bytes": float(settings.ingest_enterprise_max_bytes_s),
                        "scope_device_msgs": settings.ingest_device_max_msgs_s}
        self._burst_s = settings.ingest_rate_burst_s
        self._answers_rate = settings.ingest_enterprise_max_answers_s
        self._buckets: dict[tuple[str, ...], TokenBucket] = {}
        self.limited: set[str] = set()  # enterprises refused for their rate since the caller last cleared it

    def admit(self, enterprise: str, device: str, size: int, now: float, directory: DeviceDirectory,
              per_enterprise: bool = True) -> str | None:
        """None when the message may be taken (its tokens are then spent), else the text key of the
        limit it is over; the enterprise's own rates only if ``per_enterprise``. Unregistered
        enterprises are not limited here: the parser refuses them."""
        if enterprise not in directory.enterprises:
            return None
        wanted = self._enterprise_costs(enterprise, size) if per_enterprise else []
        if (enterprise, device) in directory.event_points:
            wanted.append(("scope_device_msgs", (enterprise, device, "msgs"), 1.0))
        buckets = []
        for scope, key, cost in wanted:
            rate = self._limits[scope]
            if not rate:
                continue
            bucket = self._bucket(key, rate, now)
            if bucket.refill(now) < min(cost, bucket.capacity):  # a message larger than the burst passes when full
                self.limited.add(enterprise)
                return scope
            buckets.append((bucket, cost))
        for bucket, cost in buckets:
            bucket.tokens -= cost
        return None

    def spend(self, enterprise: str, size: int, now: float, directory: DeviceDirectory) -> float:
        """For an enterprise with a session of its own: spend the message's tokens, into debt if need
        be, and return how long (seconds) its session should not be read; 0 within its rates."""
        if enterprise not in directory.enterprises:
            return 0.0
        wait = 0.0
        for scope, key, cost in self._enterprise_costs(enterprise, size):
            rate = self._limits[scope]
            if not rate:
                continue
            bucket = self._bucket(key, rate, now)
            bucket.refill(now)
            bucket.tokens -= cost
            if bucket.tokens < 0:
                wait = max(wait, -bucket.tokens / rate + RATE_PAUSE_S)
        return wait

    def debt_s(self, enterprise: str, now: float) -> float:
        """How long (seconds) an enterprise with a session of its own is still in debt: what its
        session received meanwhile waits unparsed that long."""
        wait = 0.0
        for scope, key, _ in self._enterprise_costs(enterprise, 0):
            bucket = self._buckets.get(key)
            if bucket is not None and bucket.refill(now) < 0:
                wait = max(wait, -bucket.tokens / self._limits[scope])
        return wait

    @staticmethod
    def _enterprise_costs(enterprise: str, size: int) -> list[tuple[str, tuple[str, ...], float]]:
        return [("scope_enterprise_msgs", (enterprise, "msgs"), 1.0),
                ("scope_enterprise_bytes", (enterprise, "bytes"), float(size))]

    def may_tell(self, enterprise: str, channel: str, now: float) -> bool:
        """Whether one more answer on the enterprise's errors topics (``channel`` "answers"), or log
        line about it ("log"), is within its rate (spent if so)."""
        bucket = self._bucket((enterprise, channel), self._answers_rate, now)
        if bucket.refill(now) < 1.0:
            return False
        bucket.tokens -= 1.0
        return True

    def limit(self, scope: str) -> float:
        return self._limits[scope]

    def _bucket(self, key: tuple[str, ...], rate: float, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket.full(rate, self._burst_s, now)
        return bucket
