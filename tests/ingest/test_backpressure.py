"""Kafka unavailable under load: the adapter stops taking messages once its bounded in-flight
window is full (the broker keeps the rest), and delivers everything when Kafka is back."""

from __future__ import annotations

import asyncio

import aiomqtt
import orjson
import pytest
from aiokafka.errors import KafkaConnectionError

from hazmon.settings import Settings
from ingest.adapter import IngestAdapter
from ingest.kafka_sink import KafkaSink
from ingest.outbound import KafkaRecord
from ingest.topics import KafkaTopics
from tests.ingest.conftest import IngestEnterprise, ingest_settings_for, read_kafka

pytestmark = pytest.mark.servers
MESSAGES = 3000
RECEIVE_MAXIMUM = 200


class OutageSink(KafkaSink):
    """The real Kafka sink, unreachable while ``down`` is set (the shared broker itself keeps running)."""

    def __init__(self, settings: Settings) -> None:
        super().__init__(settings)
        self.down = asyncio.Event()
        self.failed_writes = 0

    async def write(self, records: list[KafkaRecord]) -> None:
        if self.down.is_set():
            self.failed_writes += 1
            await asyncio.sleep(0.2)
            raise KafkaConnectionError("simulated outage")
        await super().write(records)


async def test_outage_bounds_memory_and_loses_nothing(mosquitto: Settings, kafka: str,
                                                      test_enterprise: IngestEnterprise, unique: str) -> None:
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_receive_maximum=RECEIVE_MAXIMUM,
                                   ingest_batch_messages=50, ingest_retry_s=0.2)
    topic = KafkaTopics.from_settings(settings).readings
    sink = OutageSink(settings)
    adapter = IngestAdapter(settings, sink)
    stop = asyncio.Event()
    task = asyncio.create_task(adapter.run(stop))
    peak = 0
    try:
        await asyncio.wait_for(adapter.connected.wait(), 30)
        await asyncio.sleep(0.3)
        sink.down.set()
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=test_enterprise.id,
                                  password=test_enterprise.password, protocol=aiomqtt.ProtocolVersion.V5) as device:
            for seq in range(1, MESSAGES + 1):
                body = {"v": 1, "seq": seq, "ts": 1_764_000_000_000 + seq,
                        "readings": [{"point": "TK01_LT", "value": float(seq)}]}
                await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
                peak = max(peak, adapter.in_flight)
        for _ in range(30):  # the outage goes on for a while after the last publish
            peak = max(peak, adapter.in_flight)
            await asyncio.sleep(0.1)
        assert sink.failed_writes > 0
        assert RECEIVE_MAXIMUM // 2 <= peak <= RECEIVE_MAXIMUM  # the window filled, and no further
        sink.down.clear()
        records = await read_kafka(settings, topic, lambda r: sum(len(orjson.loads(x.value)["ts"]) for x in r)
                                   >= MESSAGES, timeout_s=60)
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)
    seen = [ts for record in records for ts in orjson.loads(record.value)["ts"]]
    assert sorted(set(seen)) == [1_764_000_000_000 + seq for seq in range(1, MESSAGES + 1)]
    assert adapter.in_flight == 0
