"""Fixtures of the hostile-input suite: a private Mosquitto (the stack's own generated configuration,
password file and ACL, on a port of its own, so attacks never disturb the shared broker), a victim
and an attacker enterprise with their accounts, and an adapter with the platform's real identity."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import orjson
import pytest

from hazmon.kafka_topics import ensure_topics
from hazmon.secrets import Secrets, load_secrets
from hazmon.settings import Settings
from hzctl.stack.mosquitto import Mosquitto
from hzctl.stack.service import port_open
from ingest.adapter import IngestAdapter
from ingest.mqtt_link import end_session
from ingest.session_plan import plan_sessions
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import (  # noqa: F401 - the ingest suite's fixtures serve this one too
    adapter, device, ingest_settings, kafka_topics, running_adapter, test_enterprise, wait_for_account,
    write_registry)

VICTIM, ATTACKER = "TSEC-VICTIM", "TSEC-ATTACKER"
T0 = time.time_ns() // 1_000_000 - 3_600_000  # an hour ago: recent enough to be taken (§6: 7 days)


@dataclass(frozen=True)
class Broker:
    """The private broker: its settings (port, home, registry, secrets) and the secrets it holds."""

    settings: Settings
    secrets: Secrets


def _free_port(start: int = 18830) -> int:
    for port in range(start, 18900):
        if not port_open(port):
            return port
    raise RuntimeError("no free port in 18830-18899 for the private broker")


@pytest.fixture(scope="module")
def broker(settings: Settings) -> Iterator[Broker]:
    """A Mosquitto of its own, configured exactly as ``hazmon stack up`` configures the shared one."""
    home = Path(tempfile.mkdtemp(prefix="hazmon-security-"))
    os.chmod(home, 0o755)  # the broker drops to user mosquitto, which must reach its files
    write_registry(home / "registry", VICTIM)
    write_registry(home / "registry", ATTACKER)
    port = _free_port()
    private = settings.model_copy(update={"home": home, "mqtt_port": port, "mqtt_tls_port": _free_port(port + 1), "secrets_file": None,
                                          "registry_dir": home / "registry"})
    server = Mosquitto(private)
    server.prepare()
    log = (home / "mosquitto.log").open("wb")
    process = subprocess.Popen(server.argv(), stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + 10
        while not port_open(private.mqtt_port):
            assert process.poll() is None and time.monotonic() < deadline, (home / "mosquitto.log").read_text()
            time.sleep(0.05)
        current = load_secrets(private.secrets_path)
        wait_for_account(private, VICTIM, current.enterprise(VICTIM).mqtt_password)
        yield Broker(private, current)
    finally:
        process.terminate()
        process.wait(10)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


def enterprise_client(broker: Broker, enterprise: str, identifier: str, **options: object) -> aiomqtt.Client:
    return aiomqtt.Client(broker.settings.mqtt_host, broker.settings.mqtt_port, username=enterprise,
                          password=broker.secrets.enterprise(enterprise).mqtt_password, identifier=identifier,
                          protocol=aiomqtt.ProtocolVersion.V5, **options)


@pytest.fixture
async def platform_settings(broker: Broker, kafka: str, unique: str) -> Settings:
    """The adapter's settings as in production (its MQTT identity untouched), with Kafka topics of its
    own, made before the test: a reader that starts before the broker auto-created its topic
    sometimes missed its first records."""
    settings = broker.settings.model_copy(update={
        "kafka_topic_suffix": f".test-sec-{unique}", "ingest_stats_interval_s": 1.0, "ingest_retry_s": 0.2})
    topics = PlatformTopics.of(settings)
    await ensure_topics(settings, [topics.readings, topics.events, topics.device_status, topics.deadletter,
                                   topics.ingest_stats])
    return settings


@asynccontextmanager
async def private_adapter(settings: Settings) -> AsyncIterator[IngestAdapter]:
    """An adapter on the private broker whose sessions the broker forgets afterwards: the tests share
    the platform's identity, and a session left behind would keep what a test left unread (a flood)
    for the next test, or take copies of the next test's messages."""
    try:
        async with running_adapter(settings) as running:
            yield running
    finally:
        for plan in plan_sessions([VICTIM, ATTACKER], settings.ingest_session_shards).values():
            await end_session(settings, plan)


@pytest.fixture
async def platform_adapter(platform_settings: Settings) -> AsyncIterator[IngestAdapter]:
    async with private_adapter(platform_settings) as running:
        yield running


def readings(records: list) -> list[int]:
    """The reading timestamps of ReadingBatch records."""
    return [ts for record in records for ts in orjson.loads(record.value)["ts"]]


async def publish_victim(broker: Broker, count: int, first: int, pause_s: float = 0.0) -> None:
    """The victim's gateway publishes ``count`` one-reading messages, reading ``n`` at ``T0 + n``."""
    async with enterprise_client(broker, VICTIM, f"victim-gw-{first}") as victim:
        for n in range(first, first + count):
            body = {"v": 1, "seq": n + 1, "readings": [{"point": "TK01_LT", "value": 1.0, "ts": T0 + n}]}
            await victim.publish(f"hazmon/v1/{VICTIM}/RTU01/telemetry", orjson.dumps(body), qos=1)
            await asyncio.sleep(pause_s)
