"""Shared fixtures: settings, the sample registry, and the real servers of the local stack.

A test marked ``servers`` needs Mosquitto, Kafka and InfluxDB running (``hazmon stack up``). When
one is down the test FAILS with a message naming it: it never skips.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Coroutine, Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any, TypeVar

import aiohttp
import pytest

from hazmon.registry import Registry, load_registry
from hazmon.secrets import Secrets, load_secrets
from hazmon.settings import Settings, get_settings
from testbed.kafka_admin import SESSION_TAG, delete_topics, topic_names, unique_name


T = TypeVar("T")
TEST_TOPIC_MARKERS = re.compile(r"test|e2e")   # what the tests' own topic names carry (never the platform's)


@pytest.fixture(scope="session")
def settings() -> Settings:
    return get_settings()


@pytest.fixture(scope="session")
def registry(settings: Settings) -> Registry:
    return load_registry(settings.registry_dir)


@pytest.fixture(scope="session")
def platform_secrets(settings: Settings, registry: Registry) -> Secrets:
    return load_secrets(settings.secrets_path, tuple(registry.enterprises))


@pytest.fixture(scope="session")
def stack_health(settings: Settings) -> dict[str, str | None]:
    from hzctl.stack.manager import status

    return {state.name: state.problem for state in status(settings)}


def _require(stack_health: dict[str, str | None], name: str) -> None:
    problem = stack_health[name]
    if problem is not None:
        pytest.fail(f"server {name} is not available ({problem}); start the stack with `hazmon stack up`",
                    pytrace=False)


@pytest.fixture
def mosquitto(stack_health: dict[str, str | None], settings: Settings) -> Settings:
    """The real Mosquitto broker; fails the test when it is down."""
    _require(stack_health, "mosquitto")
    return settings


@pytest.fixture(scope="session")
def kafka_session_topics(stack_health: dict[str, str | None], settings: Settings) -> Iterator[None]:
    """Deletes, at the end of the session, the test topics it created (their names carry the session's
    tag: another session's topics on the same broker stay). Every test names its own topics
    (and Faust its changelogs), so without this a developer's broker gathers thousands of them over
    days of runs, and its heap ran out (KRaft keeps every partition in memory)."""
    bootstrap = settings.kafka_bootstrap
    before = _in_thread(topic_names(bootstrap)) if stack_health["kafka"] is None else None
    yield
    if before is not None:
        _in_thread(delete_topics(bootstrap, lambda t: t not in before and SESSION_TAG in t
                                 and bool(TEST_TOPIC_MARKERS.search(t))))


def _in_thread(coroutine: Coroutine[Any, Any, T]) -> T:
    """Run ``coroutine`` on a loop of its own, leaving pytest-asyncio's loop of this thread alone."""
    with ThreadPoolExecutor(1) as pool:
        return pool.submit(asyncio.run, coroutine).result()


@pytest.fixture
def kafka(stack_health: dict[str, str | None], settings: Settings, kafka_session_topics: None) -> str:
    """Bootstrap address of the real Kafka broker; fails the test when it is down."""
    _require(stack_health, "kafka")
    return settings.kafka_bootstrap


@pytest.fixture
def influxdb(stack_health: dict[str, str | None], settings: Settings) -> Settings:
    """The real InfluxDB; fails the test when it is down."""
    _require(stack_health, "influxdb")
    return settings


@pytest.fixture
def unique() -> str:
    """A short unique suffix for topic, group and database names of one test (this session's tag first)."""
    return unique_name()


@pytest.fixture
async def database(influxdb: Settings, unique: str) -> AsyncIterator[str]:
    """The name of a database of the test's own on the real InfluxDB (created by whoever writes first),
    dropped after the test. A module's own ``database`` fixture may ask for this one to fill it."""
    name = f"hz_test_{unique}"
    yield name
    async with aiohttp.ClientSession() as session:
        await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{name}"'})


@pytest.fixture
def registry_dir(settings: Settings) -> Path:
    return settings.registry_dir
