"""Kill the adapter (a real process, SIGKILL) while a device publishes 10 000 readings, restart it:
every reading reaches Kafka, and none twice once (point, ts) duplicates are folded."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections import Counter
from pathlib import Path

import aiomqtt
import orjson
import pytest

from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import RECENT_MS, IngestEnterprise, ingest_settings_for, read_kafka

pytestmark = pytest.mark.servers
MESSAGES, PER_MESSAGE = 1000, 10
T0 = RECENT_MS


def adapter_env(settings: Settings) -> dict[str, str]:
    return {**os.environ, "HAZMON_REGISTRY_DIR": str(settings.registry_dir),
            "HAZMON_INGEST_ENTERPRISES": orjson.dumps(settings.ingest_enterprises).decode(),
            "HAZMON_KAFKA_TOPIC_SUFFIX": settings.kafka_topic_suffix,
            "HAZMON_INGEST_CLIENT_ID": settings.ingest_client_id,
            "HAZMON_INGEST_SHARE_GROUP": settings.ingest_share_group}


def start_adapter(settings: Settings, log: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "ingest", "run"], env=adapter_env(settings),
                            stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)


async def wait_connected(log: Path, times: int, process: subprocess.Popen) -> None:
    async with asyncio.timeout(30):
        while log.read_text().count("mqtt connected") < times:
            assert process.poll() is None, log.read_text()
            await asyncio.sleep(0.1)
    await asyncio.sleep(0.5)  # subscriptions follow the connection


def expected_readings() -> set[tuple[str, int]]:
    return {(("TK01_LT", "TK01_TT")[i % 2], T0 + m * PER_MESSAGE + i) for m in range(MESSAGES) for i in range(PER_MESSAGE)}


async def publish_all(settings: Settings, enterprise: IngestEnterprise, client_id: str) -> None:
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise.id,
                              password=enterprise.password, identifier=client_id,
                              protocol=aiomqtt.ProtocolVersion.V5) as device:
        for m in range(MESSAGES):
            body = {"v": 1, "seq": m + 1, "ts": T0 + m * PER_MESSAGE, "readings": [
                {"point": ("TK01_LT", "TK01_TT")[i % 2], "value": float(i), "ts": T0 + m * PER_MESSAGE + i}
                for i in range(PER_MESSAGE)]}
            await device.publish(f"hazmon/v1/{enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
            await asyncio.sleep(0.003)


def pairs(records: list) -> list[tuple[str, int]]:
    out = []
    for record in records:
        batch = orjson.loads(record.value)
        out += list(zip(batch["points"], batch["ts"]))
    return out


async def test_sigkill_during_publishing_loses_nothing(mosquitto: Settings, kafka: str,
                                                       test_enterprise: IngestEnterprise, unique: str,
                                                       tmp_path: Path) -> None:
    settings = ingest_settings_for(mosquitto, test_enterprise, unique)
    topic = PlatformTopics.of(settings).readings
    log = tmp_path / "adapter.log"
    adapter = start_adapter(settings, log)
    try:
        await wait_connected(log, 1, adapter)
        publisher = asyncio.create_task(publish_all(settings, test_enterprise, f"dev-{unique}"))
        before = await read_kafka(settings, topic, lambda r: len(pairs(r)) >= 2000, timeout_s=60)
        assert len(pairs(before)) >= 2000, log.read_text()
        assert not publisher.done()
        os.killpg(adapter.pid, signal.SIGKILL)
        adapter.wait()
        await asyncio.sleep(1.0)  # the device goes on publishing into the adapter's session
        adapter = start_adapter(settings, log)
        await wait_connected(log, 2, adapter)
        await asyncio.wait_for(publisher, 60)
        want = expected_readings()
        got = pairs(await read_kafka(settings, topic, lambda r: set(pairs(r)) >= want, timeout_s=90))
    finally:
        os.killpg(adapter.pid, signal.SIGTERM)
        adapter.wait(timeout=60)
    missing = want - set(got)
    assert not missing, f"{len(missing)} readings lost, e.g. {sorted(missing)[:5]}"
    assert set(got) == want  # nothing foreign, and each reading once after de-duplication
    repeated = sum(n - 1 for n in Counter(got).values())
    assert repeated <= 2000 * PER_MESSAGE  # at most one receive window of redelivery (at least once)
    assert "stopped" in log.read_text().splitlines()[-1]  # SIGTERM drained and exited cleanly
