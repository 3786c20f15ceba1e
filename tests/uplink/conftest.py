"""Fixtures of the uplink tests: an upper broker of the test's own, the prefecture's hazmon on it, and the
test's own platform topics (the upper platform itself is ``testbed.uplink``); alerting's fixtures too."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Literal

import pytest

from hazmon.kafka_topics import ensure_topics
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from prefecture.service import Prefecture
from testbed.kafka_admin import delete_topics
from testbed.uplink import TopicOf, UpperBroker, prefecture_settings, running_prefecture, upper_broker
from tests.alerting.conftest import (alerting_settings, browser, names, produce, receiver, start_recorder,  # noqa: F401 - served here too
                                    start_service)


@pytest.fixture
def upper() -> Iterator[UpperBroker]:
    with upper_broker() as broker:
        yield broker


@pytest.fixture
async def prefecture(influxdb: Settings, upper: UpperBroker, tmp_path: Path, unique: str) -> AsyncIterator[Prefecture]:
    home = tmp_path / f"prefecture-{unique}"
    async with running_prefecture(prefecture_settings(influxdb, upper, home, f"test_prefecture_{unique}")) as running:
        yield running


@pytest.fixture
async def platform_topic(kafka: str, settings: Settings, unique: str) -> AsyncIterator[TopicOf]:
    """A factory: ``await platform_topic("changes")`` is (suffix, topic) of the test's own platform topic of that
    name (a ``PlatformTopics`` field), created; every topic of the test's suffix is deleted afterwards."""
    suffix = f".test-uplink-{unique}"

    async def create(name: Literal["changes", "readings"]) -> tuple[str, str]:
        topic = getattr(PlatformTopics.with_suffix(suffix), name)
        await ensure_topics(settings, [topic])
        return suffix, topic

    yield create
    await delete_topics(kafka, lambda name: name.endswith(suffix))
