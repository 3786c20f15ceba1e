"""One enterprise floods the broker (issue #14, bench/abuse.py): its messages must wait in its own
broker queue, never in front of another enterprise's. With one platform session for every
enterprise, the victim's readings queued behind the flood (alarms 40 s late) and were dropped once
the session's queue was full."""

from __future__ import annotations

import asyncio
import subprocess
import tempfile
import time
from pathlib import Path

import orjson
import pytest

from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import read_kafka
from tests.security.conftest import ATTACKER, T0, VICTIM, Broker, enterprise_client, private_adapter

pytestmark = pytest.mark.servers
FLOOD_PER_PUBLISHER = 60_000
VICTIM_MESSAGES = 40
LATENCY_BOUND_S = 3.0  # publication to Kafka, on a 2-core machine the flood keeps busy


def _flood_file(directory: Path, device: str) -> Path:
    """Valid one-reading messages for the attacker's ``device``, one per line, for ``mosquitto_pub -l``."""
    path = directory / f"{device}.lines"
    body = orjson.dumps({"v": 1, "readings": [{"point": "TK02_LT", "value": 1.0, "ts": T0 + 5_000_000}]})
    path.write_bytes((body + b"\n") * FLOOD_PER_PUBLISHER)
    return path


def _flood(broker: Broker, device: str, lines: Path) -> subprocess.Popen:
    """A C publisher as fast as the broker takes it, with the attacker's own account."""
    settings = broker.settings
    return subprocess.Popen(
        ["mosquitto_pub", "-h", settings.mqtt_host, "-p", str(settings.mqtt_port), "-V", "5", "-q", "1",
         "-u", ATTACKER, "-P", broker.secrets.enterprise(ATTACKER).mqtt_password, "-i", f"flood-{device}",
         "-M", "1000", "-t", f"hazmon/v1/{ATTACKER}/{device}/telemetry", "-l"],
        stdin=lines.open("rb"), stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


async def _victim(broker: Broker, published: dict[int, float]) -> None:
    """The victim's gateway: one reading every 0.1 s, its publication time kept per reading."""
    async with enterprise_client(broker, VICTIM, "victim-during-flood") as gateway:
        for n in range(VICTIM_MESSAGES):
            published[T0 + n] = time.time()
            body = {"v": 1, "seq": n + 1, "readings": [{"point": "TK01_LT", "value": 1.0, "ts": T0 + n}]}
            await gateway.publish(f"hazmon/v1/{VICTIM}/RTU01/telemetry", orjson.dumps(body), qos=1)
            await asyncio.sleep(0.1)


async def test_a_flooding_enterprise_neither_delays_nor_drops_another(
        broker: Broker, platform_settings: Settings) -> None:
    """120 000 messages from the attacker (a made-up device and its own registered one) while the
    victim publishes 40: every victim reading in Kafka within LATENCY_BOUND_S of its publication."""
    settings = platform_settings.model_copy(update={"ingest_enterprise_max_msgs_s": 500.0, "ingest_rate_burst_s": 1.0})
    topics = PlatformTopics.of(settings)
    published: dict[int, float] = {}
    with tempfile.TemporaryDirectory() as tmp:
        lines = [_flood_file(Path(tmp), device) for device in ("MADE-UP-1", "RTU02")]
        async with private_adapter(settings):
            floods = [_flood(broker, path.stem, path) for path in lines]
            try:
                await asyncio.sleep(1.0)  # the flood has filled the broker by now
                await _victim(broker, published)
                records = await read_kafka(settings, topics.readings, lambda r: _victim_count(r) >= VICTIM_MESSAGES,
                                           timeout_s=30)
            finally:
                for flood in floods:
                    flood.terminate()
                    flood.wait(10)
    arrived: dict[int, float] = {}
    for record in records:
        for ts in orjson.loads(record.value)["ts"]:
            if ts in published:
                arrived.setdefault(ts, record.timestamp / 1000)
    lost = sorted(set(published) - set(arrived))
    latencies = sorted(arrived[ts] - published[ts] for ts in arrived)
    assert not lost, f"{len(lost)} of {VICTIM_MESSAGES} victim readings never reached Kafka"
    assert latencies[-1] < LATENCY_BOUND_S, f"victim latency p50 {latencies[len(latencies) // 2]:.1f} s, " \
                                            f"max {latencies[-1]:.1f} s"


def _victim_count(records: list) -> int:
    return sum(1 for r in records for ts in orjson.loads(r.value)["ts"] if T0 <= ts < T0 + VICTIM_MESSAGES)
