"""Fixtures of the ingest tests: a registry of one test enterprise with broker credentials, settings
that keep each test's Kafka topics and MQTT group apart, a device client and a Kafka reader."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path

import aiomqtt
import paho.mqtt.client as paho
import pytest
from aiokafka import AIOKafkaConsumer

from hazmon.registry import load_registry
from hazmon.secrets import Secrets
from hazmon.settings import Settings
from ingest.adapter import IngestAdapter
from ingest.directory import DeviceDirectory
from hazmon.topics import PlatformTopics

REGISTRY_TEMPLATE = """\
enterprise: {{id: "{enterprise}", name: "测试企业", town: "灵溪镇", lat: 29.0, lon: 109.8}}
sites:
  - {{id: TF01, name: "1号储罐区", kind: major_hazard, hazard_grade: 2}}
  - {{id: BLD1, name: "办公楼", kind: fire_unit}}
points:
  - {{id: TK01_LT, site: TF01, device: RTU01, type: tank_level, range: [0, 12], high: 9.0, high_high: 10.5, period_s: 10}}
  - {{id: TK01_TT, site: TF01, device: RTU01, type: temperature, range: [-20, 80], high: 45, high_high: 55}}
  - {{id: TK02_LT, site: TF01, device: RTU02, type: tank_level, range: [0, 12], high: 9.0, high_high: 10.5}}
  - {{id: FAC1_Z07, site: BLD1, device: FAC1, type: fire_detector, name: "3F 东走廊"}}
"""


@dataclass(frozen=True)
class IngestEnterprise:
    id: str
    registry_dir: Path
    password: str


def write_registry(directory: Path, enterprise: str, extra_points: str = "") -> None:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{enterprise}.yaml").write_text(REGISTRY_TEMPLATE.format(enterprise=enterprise) + extra_points)


@pytest.fixture(scope="session")
def test_enterprise(tmp_path_factory: pytest.TempPathFactory, settings: Settings) -> IngestEnterprise:
    """One enterprise per test session, registered with the broker (its account added live)."""
    from hzctl.stack.mosquitto import register_enterprises

    enterprise = "TINGEST-" + tmp_path_factory.getbasetemp().name.replace("pytest-", "")[-12:]
    directory = tmp_path_factory.mktemp("ingest-registry")
    write_registry(directory, enterprise)
    secrets: Secrets = register_enterprises(settings, directory)
    password = secrets.enterprise(enterprise).mqtt_password
    wait_for_account(settings, enterprise, password)
    return IngestEnterprise(enterprise, directory, password)


def wait_for_account(settings: Settings, username: str, password: str, timeout_s: float = 10.0) -> None:
    """The broker reloads its password file on SIGHUP, a moment after it was asked to."""
    deadline = time.monotonic() + timeout_s
    while True:
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
        client.username_pw_set(username, password)
        try:
            accepted = client.connect(settings.mqtt_host, settings.mqtt_port) == paho.MQTT_ERR_SUCCESS and \
                _connack_success(client)
        finally:
            client.disconnect()
        if accepted:
            return
        if time.monotonic() > deadline:
            pytest.fail(f"the broker does not accept the new account {username} after {timeout_s:g} s")
        time.sleep(0.2)


def _connack_success(client: paho.Client) -> bool:
    answers: list[bool] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(not reason.is_failure)
    deadline = time.monotonic() + 3
    while not answers and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    return bool(answers and answers[0])


UNIT_ENTERPRISE = "E1"
RECENT_MS = time.time_ns() // 1_000_000 - 3_600_000  # a fixed start for the servers' tests: within §6's 7 days


@pytest.fixture(scope="session")
def directory(tmp_path_factory: pytest.TempPathFactory) -> DeviceDirectory:
    """The test registry of enterprise E1 (no broker involved): for the pure parser."""
    registry_dir = tmp_path_factory.mktemp("unit-registry")
    write_registry(registry_dir, UNIT_ENTERPRISE)
    return DeviceDirectory.from_registry(load_registry(registry_dir))


def ingest_settings_for(settings: Settings, enterprise: IngestEnterprise, unique: str, **extra: object) -> Settings:
    return settings.model_copy(update={
        "registry_dir": enterprise.registry_dir, "ingest_enterprises": [enterprise.id],
        "kafka_topic_suffix": f".test-{unique}", "ingest_client_id": f"test-ingest-{unique}",
        "ingest_share_group": f"test-{unique}", "ingest_stats_interval_s": 1.0, "ingest_registry_poll_s": 0.5,
        "ingest_retry_s": 0.5, "ingest_session_expiry_s": 120, **extra})  # no orphan session queueing for a day


@pytest.fixture
def ingest_settings(mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str) -> Settings:
    return ingest_settings_for(mosquitto, test_enterprise, unique)


@asynccontextmanager
async def running_adapter(settings: Settings) -> AsyncIterator[IngestAdapter]:
    """An adapter running in this event loop, connected and subscribed; stopped (drained) at the end."""
    stop = asyncio.Event()
    running = IngestAdapter(settings)
    task = asyncio.create_task(running.run(stop))
    await asyncio.wait_for(running.connected.wait(), 30)
    await asyncio.sleep(0.3)  # the SUBACKs follow the connection
    yield running
    stop.set()
    await asyncio.wait_for(task, 60)


@pytest.fixture
async def adapter(ingest_settings: Settings) -> AsyncIterator[IngestAdapter]:
    """The adapter running in this event loop, connected and subscribed."""
    async with running_adapter(ingest_settings) as running:
        yield running


@pytest.fixture
async def device(mosquitto: Settings, test_enterprise: IngestEnterprise, unique: str) -> AsyncIterator[aiomqtt.Client]:
    """An MQTT client with the test enterprise's own account (its ACL applies)."""
    client = aiomqtt.Client(mosquitto.mqtt_host, mosquitto.mqtt_port, username=test_enterprise.id,
                            password=test_enterprise.password, identifier=f"dev-{unique}",
                            protocol=aiomqtt.ProtocolVersion.V5)
    async with client:
        yield client


async def read_kafka(settings: Settings, topic: str, done: Callable[[list], bool], timeout_s: float = 30) -> list:
    """Records of ``topic`` from the beginning, until ``done(records)`` or the timeout."""
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    records: list = []
    try:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + timeout_s
        while not done(records) and loop.time() < deadline:
            batches = await consumer.getmany(timeout_ms=300)
            records += [m for msgs in batches.values() for m in msgs]
    finally:
        await consumer.stop()
    return records


@pytest.fixture
def kafka_topics(ingest_settings: Settings) -> PlatformTopics:
    return PlatformTopics.of(ingest_settings)
