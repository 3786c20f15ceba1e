"""Two real adapter processes (`hazmon ingest run --instance 1|2`, as `deploy/ingest-instance.sh` starts
them) on the real Mosquitto split one device's messages through the shared subscription: each takes a
share, together all of them, and no message reaches Kafka twice (a subscription that gave every process
every message would double the readings)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import pytest

from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import IngestEnterprise, ingest_settings_for, read_kafka
from tests.ingest.test_kill import MESSAGES, PER_MESSAGE, adapter_env, expected_readings, pairs, publish_all, wait_connected

pytestmark = pytest.mark.servers


def start_instance(settings: Settings, instance: int, log: Path) -> subprocess.Popen:
    """An adapter process with the installation's client ids (no override): the instance number tells them apart."""
    env = {name: value for name, value in adapter_env(settings).items() if name != "HAZMON_INGEST_CLIENT_ID"}
    return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "ingest", "run", "--instance", str(instance)],
                            env={**env, "HAZMON_INGEST_SESSION_EXPIRY_S": "120"}, stdout=log.open("ab"),
                            stderr=subprocess.STDOUT, start_new_session=True)


async def test_two_adapter_processes_split_the_messages(mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise,
                                                        unique: str, tmp_path: Path) -> None:
    settings = ingest_settings_for(mosquitto, test_enterprise, unique)
    logs = [tmp_path / f"ingest-{n}.log" for n in (1, 2)]
    adapters = [start_instance(settings, n, log) for n, log in zip((1, 2), logs)]
    try:
        for adapter, log in zip(adapters, logs):
            await wait_connected(log, 1, adapter)
        await publish_all(settings, test_enterprise, f"dev-{unique}")
        want, topic = expected_readings(), PlatformTopics.of(settings).readings
        await read_kafka(settings, topic, lambda r: len(pairs(r)) >= len(want), timeout_s=60)
        await asyncio.sleep(2.0)   # copies, if the subscription made any, arrive meanwhile
        got = pairs(await read_kafka(settings, topic, lambda r: False, timeout_s=5))
    finally:
        for adapter in adapters:
            os.killpg(adapter.pid, signal.SIGTERM)
        for adapter in adapters:
            adapter.wait(timeout=60)
    texts = [log.read_text() for log in logs]
    assert set(got) == want
    assert len(got) == MESSAGES * PER_MESSAGE, f"{len(got) - MESSAGES * PER_MESSAGE} readings more than published"
    taken = [int(re.findall(r"messages_taken=(\d+)", text)[-1]) for text in texts]
    assert sum(taken) == MESSAGES and min(taken) > 0, taken
    assert not any("mqtt connection lost" in text for text in texts), texts
