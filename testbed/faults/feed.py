"""A steady feed over MQTT for the fault tests and ``bench/faults.py``: devices of a simulated county
publish their points' baseline values (QoS 1), and alarms are injected every few seconds.

Every message of a device carries a time of its own, so each reading (enterprise, device, point, ts)
can be found again in Kafka: what the broker acknowledged (PUBACK) and is missing there is lost,
what is there twice is a repeat. A device whose connection breaks reconnects and publishes the
unacknowledged message again, as the data standard asks of a device (at least once).
"""

from __future__ import annotations

import asyncio
import sys
import time
import uuid
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass, field
from pathlib import Path

import aiomqtt
import orjson

from hazmon.registry import load_registry
from hazmon.secrets import Secrets
from hazmon.settings import Settings
from device_sim.load import baseline, load_devices
from testbed.pipeline import IsolatedPipeline

Reading = tuple[str, str, str, int]   # enterprise, device, point, ts


@dataclass(frozen=True)
class Target:
    """A point with an upper limit on a device the steady load does not drive: where alarms are injected."""

    enterprise: str
    device: str
    point: str
    threshold: float
    period_s: float
    confirm_s: float

    @property
    def key(self) -> str:
        return f"{self.point}@{self.enterprise}"


def alarm_targets(county_dir: Path, busy: set[tuple[str, str]]) -> list[Target]:
    """Every point with an upper limit on a device not in ``busy`` (enterprise, device), county order; not the
    points of a voting group (one of them alone never confirms an alarm)."""
    registry = load_registry(county_dir)
    found = []
    for enterprise in sorted(registry.enterprises):
        for device, entries in sorted(registry.devices(enterprise).items()):
            if (enterprise, device) in busy:
                continue
            for entry in (e for e in entries if e.point.group is None):
                upper = [limit for limit in entry.limits.limits if entry.limits.form == "two_level" and limit.direction == "above"]
                if upper:
                    found.append(Target(enterprise, device, entry.id, upper[0].threshold, entry.point.period_s,
                                        entry.limits.confirm_s))
    return found


@dataclass
class Feed:
    """``connections`` devices publishing ``rate`` messages/s in all, and alarms every ``alarm_every_s``."""

    settings: Settings
    secrets: Secrets
    county_dir: Path
    connections: int
    rate: float
    alarm_every_s: float = 3.0
    acked: set[Reading] = field(default_factory=set)           # readings the broker acknowledged
    alarms: dict[str, float] = field(default_factory=dict)     # target key → monotonic time of the PUBACK
    reconnects: list[float] = field(default_factory=list)      # seconds each broken connection took to come back
    _clients: dict[tuple[str, str], aiomqtt.Client] = field(default_factory=dict)

    def __post_init__(self) -> None:
        self.devices = load_devices(self.county_dir, self.connections)
        self.targets = alarm_targets(self.county_dir, {(e, d) for e, d, _ in self.devices})

    async def run(self, stop: asyncio.Event) -> None:
        """Publish until ``stop``; every message in flight at ``stop`` is acknowledged or given up first."""
        await asyncio.gather(*(self._device(e, d, entries, stop) for e, d, entries in self.devices),
                             self._alarms(stop))

    async def _device(self, enterprise: str, device: str, entries: list, stop: asyncio.Event) -> None:
        points = [e.id for e in entries]
        values = [baseline(e, time.time()).round(6).tolist() for e in entries]
        interval = self.connections / self.rate
        last_ts, n = 0, 0
        while not stop.is_set():
            last_ts = max(int(time.time() * 1000), last_ts + 1)
            readings = [{"point": p, "value": values[i][n % len(values[i])], "ts": last_ts} for i, p in enumerate(points)]
            await self._publish(enterprise, device, {"v": 1, "ts": last_ts, "readings": readings})
            self.acked.update((enterprise, device, p, last_ts) for p in points)
            n += 1
            await asyncio.sleep(interval)

    async def _alarms(self, stop: asyncio.Event) -> None:
        for target in self.targets:
            if stop.is_set():
                return
            now_ms = int(time.time() * 1000)
            steps = int(target.confirm_s // target.period_s) + 1
            readings = [{"point": target.point, "value": target.threshold * 1.5 + 1,
                         "ts": now_ms - int((steps - i) * target.period_s * 1000)} for i in range(steps + 1)]
            await self._publish(target.enterprise, target.device, {"v": 1, "ts": now_ms, "readings": readings})
            self.alarms[target.key] = time.monotonic()
            await asyncio.sleep(self.alarm_every_s)

    async def _publish(self, enterprise: str, device: str, body: dict) -> None:
        """One message, QoS 1, on a connection of the device's own; again on a new one until acknowledged."""
        broken: float | None = None
        while True:
            try:
                client = await self._client(enterprise, device)
                await client.publish(f"hazmon/v1/{enterprise}/{device}/telemetry", orjson.dumps(body), qos=1, timeout=10)
                if broken is not None:
                    self.reconnects.append(time.monotonic() - broken)
                return
            except (aiomqtt.MqttError, OSError):
                broken = broken or time.monotonic()
                await self._drop(enterprise, device)
                await asyncio.sleep(0.5)

    async def _client(self, enterprise: str, device: str) -> aiomqtt.Client:
        client = self._clients.get((enterprise, device))
        if client is None:
            client = aiomqtt.Client(self.settings.mqtt_host, self.settings.mqtt_port,
                                    identifier=f"fault-{device}-{uuid.uuid4().hex[:6]}", username=enterprise,
                                    password=self.secrets.enterprise(enterprise).mqtt_password,
                                    protocol=aiomqtt.ProtocolVersion.V5, timeout=10)
            await client.__aenter__()
            self._clients[(enterprise, device)] = client
        return client

    async def _drop(self, enterprise: str, device: str) -> None:
        client = self._clients.pop((enterprise, device), None)
        if client is not None:
            try:
                await client.__aexit__(None, None, None)
            except (aiomqtt.MqttError, OSError):
                pass

    async def close(self) -> None:
        for enterprise, device in list(self._clients):
            await self._drop(enterprise, device)


def reading_keys(batches: Iterable[dict]) -> list[Reading]:
    """The readings of ReadingBatch records as (enterprise, device, point, ts), repeats kept."""
    return [(b["enterprise"], b["device"], p, t) for b in batches for p, t in zip(b["points"], b["ts"])]


def losses(acked: set[Reading], in_kafka: list[Reading]) -> dict[str, int]:
    """Acknowledged readings missing from Kafka, and repeats among this feed's readings there."""
    mine = [r for r in in_kafka if r in acked]
    return {"readings_acked": len(acked), "readings_lost": len(acked - set(mine)),
            "readings_repeated": len(mine) - len(set(mine))}


async def settled_losses(run: IsolatedPipeline, feed: Feed, timeout_s: float = 60.0) -> dict[str, int]:
    """:func:`losses` of the run's readings topic once no acknowledged reading is missing there, or after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while True:
        async with asyncio.timeout(timeout_s):
            records = await _all(run.records(run.names.readings))
        figures = losses(feed.acked, reading_keys(records))
        if figures["readings_lost"] == 0 or time.monotonic() > deadline:
            return figures
        await asyncio.sleep(2)


async def _all(records: AsyncIterator[dict]) -> list[dict]:
    return [record async for record in records]


def progress(text: str) -> None:
    """A timestamped line on stderr: where a long fault test or bench is."""
    print(f"[{time.strftime('%H:%M:%S')}] {text}", file=sys.stderr, flush=True)
