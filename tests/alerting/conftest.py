"""Fixtures of the alerting tests: settings on unique topics and database, running services, tokens."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiokafka import AIOKafkaProducer
from selenium.webdriver.remote.webdriver import WebDriver

from hazmon import wire
from hazmon.registry import Registry, load_registry
from hazmon.secrets import EnterpriseSecrets, Principal, Secrets, token_index
from hazmon.settings import Settings

from alerting.clock import ManualClock
from hazmon.topics import PlatformTopics
from alerting.service import AlertingService
from recorder.service import Recorder
from testbed.alerting import CHEM, T0, Receiver
from testbed.browser import ChromiumMissing, chromium
from testbed.kafka_admin import delete_topics

DUTY_TOKEN = "duty-token"
POINT_NAMES = {"TK01_LT": "1号储罐液位", "TK01_TT": "1号储罐温度", "TK01_PT": "1号储罐压力"}


@pytest.fixture
def named_registry(settings: Settings, tmp_path: Path) -> Registry:
    """The sample registry with the optional point names (§7) an enterprise gives, as the desk reads them."""
    directory = tmp_path / "named-registry"
    shutil.copytree(settings.registry_dir, directory)
    chem = directory / f"{CHEM}.yaml"
    text = chem.read_text(encoding="utf-8")
    for point, name in POINT_NAMES.items():
        text = text.replace(f"{{id: {point}, site:", f'{{id: {point}, name: "{name}", site:')
    chem.write_text(text, encoding="utf-8")
    return load_registry(directory)


@pytest.fixture
def tokens(registry: Registry) -> dict[str, Principal]:
    secrets = Secrets(platform_mqtt_password="unused", duty_token=DUTY_TOKEN,
                      enterprises={e: EnterpriseSecrets(mqtt_password="unused", api_token=f"token-{e}")
                                   for e in registry.enterprises})
    return token_index(secrets)


@pytest.fixture
async def names(kafka: str, unique: str) -> AsyncIterator[PlatformTopics]:
    """The test's own topics, deleted afterwards so that the shared broker does not fill up."""
    topics = PlatformTopics.with_suffix(f".test-alerting-{unique}")
    yield topics
    await delete_topics(kafka, set(topics.all()).__contains__)


@pytest.fixture
async def receiver() -> AsyncIterator[Receiver]:
    server = await Receiver().start()
    yield server
    await server.stop()


@pytest.fixture
async def alerting_settings(kafka: str, influxdb: Settings, names: PlatformTopics, unique: str, tmp_path: Path,
                            receiver: Receiver) -> AsyncIterator[Settings]:
    """Settings on the test's own topics, InfluxDB database (dropped afterwards) and notification receiver."""
    settings = influxdb.model_copy(update={
        "kafka_topic_suffix": names.suffix,
        "influx_db": f"test_alerting_{unique}", "alerting_group": f"test-alerting-{unique}",
        "alerting_webhooks": [f"{receiver.url}/webhook"], "alerting_dingtalk_urls": [f"{receiver.url}/dingtalk"],
        "alerting_wecom_urls": [f"{receiver.url}/wecom"], "alerting_group_window_s": 1.0,
        "alerting_retry_s": (0.2, 0.2), "alerting_deadletter_file": tmp_path / "deadletter.jsonl",
        "alerting_influx_flush_s": 0.1, "home": tmp_path,
        "influx_raw_retention_days": 36500,      # the scenarios' readings are of 2025: older than the default 30 days
    })
    yield settings
    async with aiohttp.ClientSession() as session:
        await session.post(f"{settings.influx_url}/query", data={"q": f'DROP DATABASE "{settings.influx_db}"'})


@pytest.fixture
async def start_service(alerting_settings: Settings, registry: Registry):
    """Start services on the test's topics (several share the log); all are stopped at the end."""
    started: list[AlertingService] = []

    async def start(clock: ManualClock | None = None, settings: Settings | None = None) -> AlertingService:
        service = AlertingService(settings or alerting_settings, registry, clock=clock or ManualClock(T0))
        await service.start()
        await service.caught_up()
        started.append(service)
        return service

    yield start
    for service in started:
        await service.stop()


@pytest.fixture
async def start_recorder(alerting_settings: Settings, registry: Registry):
    """Start recorders on the test's topics and database (alerting's lines reach InfluxDB only through one);
    all are stopped at the end."""
    started: list[Recorder] = []

    async def start(settings: Settings | None = None, registry_of_test: Registry | None = None) -> Recorder:
        recorder = Recorder(settings or alerting_settings, registry_of_test or registry)
        await recorder.start()
        started.append(recorder)
        return recorder

    yield start
    for recorder in started:
        await recorder.stop()


@asynccontextmanager
async def record_sender(bootstrap: str) -> AsyncIterator[Callable[[str, list[dict]], Awaitable[None]]]:
    """``send(topic, records)``: wire records keyed by enterprise, flushed before it returns."""
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()

    async def send(topic: str, records: list[dict]) -> None:
        for record in records:
            await producer.send(topic, wire.encode(record), key=record["enterprise"].encode())
        await producer.flush()

    try:
        yield send
    finally:
        await producer.stop()


@pytest.fixture
async def produce(kafka: str) -> AsyncIterator[Callable]:
    async with record_sender(kafka) as send:
        yield send


@pytest.fixture
def browser(tmp_path: Path) -> Iterator[WebDriver]:
    try:
        session = chromium(tmp_path / "chromium-profile")
    except ChromiumMissing as missing:
        pytest.fail(str(missing), pytrace=False)
    yield session
    session.quit()
