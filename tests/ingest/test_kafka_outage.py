"""Stop Kafka for 20 s under load (a private Kafka broker of this test, since the shared one serves
other developers): the adapter's in-flight window stays bounded, its memory does not grow with the
backlog, and after Kafka returns every message is there."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import orjson
import pytest

from hazmon.settings import Settings
from hzctl.stack.kafka import Kafka
from hzctl.stack.manager import up_one
from ingest.adapter import IngestAdapter
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import RECENT_MS, IngestEnterprise, ingest_settings_for, read_kafka

pytestmark = pytest.mark.servers
RECEIVE_MAXIMUM = 300
OUTAGE_S = 20.0
RATE_PER_S = 200


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_kib() -> int:
    return int(next(line for line in Path("/proc/self/status").read_text().splitlines()
                    if line.startswith("VmRSS:")).split()[1])


@pytest.fixture
def uncaptured_aiokafka_logs() -> Iterator[None]:
    """During the outage aiokafka logs an error per failed connection attempt; pytest's log capture
    would keep every one of those records in this process and its RSS would grow with them. The
    memory measured here is the adapter's, so aiokafka's records go to stderr, not to the capture."""
    aiokafka_log = logging.getLogger("aiokafka")
    handler = logging.StreamHandler()
    aiokafka_log.addHandler(handler)
    aiokafka_log.propagate = False
    yield
    aiokafka_log.propagate = True
    aiokafka_log.removeHandler(handler)


@pytest.fixture
async def private_kafka(kafka: str, settings: Settings, tmp_path: Path) -> Kafka:
    """A Kafka broker of this test only (same jars as the stack's), stopped at the end."""
    own = settings.model_copy(update={
        "home": tmp_path / "home", "cache_dir": settings.cache_path, "kafka_heap_mb": 256,
        "kafka_bootstrap": f"127.0.0.1:{free_port()}", "kafka_controller_port": free_port()})
    broker = Kafka(own)
    await asyncio.to_thread(up_one, broker, 120)
    yield broker
    await asyncio.to_thread(broker.process.stop)


async def publish_steadily(settings: Settings, enterprise: IngestEnterprise, count: list[int],
                           stop: asyncio.Event) -> None:
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise.id,
                              password=enterprise.password, protocol=aiomqtt.ProtocolVersion.V5) as device:
        while not stop.is_set():
            count[0] += 1
            body = {"v": 1, "seq": count[0], "ts": RECENT_MS + count[0],
                    "readings": [{"point": "TK01_LT", "value": float(count[0])}]}
            await device.publish(f"hazmon/v1/{enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
            await asyncio.sleep(1 / RATE_PER_S)


@pytest.mark.usefixtures("uncaptured_aiokafka_logs")
async def test_kafka_stopped_for_20_s_under_load(mosquitto: Settings, private_kafka: Kafka,
                                                 test_enterprise: IngestEnterprise, unique: str) -> None:
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, kafka_bootstrap=private_kafka.settings.kafka_bootstrap,
                                   ingest_receive_maximum=RECEIVE_MAXIMUM, ingest_batch_messages=100)
    adapter = IngestAdapter(settings)
    stop_adapter, stop_device = asyncio.Event(), asyncio.Event()
    running = asyncio.create_task(adapter.run(stop_adapter))
    published = [0]
    try:
        await asyncio.wait_for(adapter.connected.wait(), 30)
        await asyncio.sleep(0.5)
        device = asyncio.create_task(publish_steadily(settings, test_enterprise, published, stop_device))
        await asyncio.sleep(3)
        await asyncio.to_thread(private_kafka.process.stop)
        rss_at_stop, peak_in_flight, peak_rss = rss_kib(), 0, 0
        outage_started = asyncio.get_running_loop().time()
        while asyncio.get_running_loop().time() - outage_started < OUTAGE_S:
            peak_in_flight = max(peak_in_flight, adapter.in_flight)
            peak_rss = max(peak_rss, rss_kib())
            await asyncio.sleep(0.1)
        during_outage = published[0]
        await asyncio.to_thread(up_one, private_kafka, 120)
        await asyncio.sleep(2)
        stop_device.set()
        await device
        want = published[0]
        records = await read_kafka(settings, PlatformTopics.of(settings).readings,
                                   lambda r: len({t for x in r for t in orjson.loads(x.value)["ts"]}) >= want,
                                   timeout_s=90)
    finally:
        stop_adapter.set()
        await asyncio.wait_for(running, 60)
    assert during_outage > 3 * RATE_PER_S + 2 * RECEIVE_MAXIMUM  # the load outgrew the window during the outage
    assert RECEIVE_MAXIMUM // 2 <= peak_in_flight <= RECEIVE_MAXIMUM
    assert peak_rss - rss_at_stop < 50 * 1024  # no growth with the backlog (the broker holds it)
    seen = {ts for record in records for ts in orjson.loads(record.value)["ts"]}
    assert seen == {RECENT_MS + n for n in range(1, want + 1)}
