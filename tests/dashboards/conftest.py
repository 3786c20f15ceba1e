"""Fixtures of the dashboards tests: the generated models of the sample registry, in both languages, and a
seeded county's InfluxDB database."""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest

from hazmon.registry import Registry
from hazmon.settings import Settings

from dashboards.generate import dashboard_models
from tests.dashboards.county import seed_county


@pytest.fixture(scope="session")
def models(registry: Registry, settings: Settings) -> dict[str, dict]:
    return dashboard_models(registry, settings, "zh")


@pytest.fixture(scope="session")
def models_en(registry: Registry, settings: Settings) -> dict[str, dict]:
    return dashboard_models(registry, settings, "en")



@pytest.fixture
async def county(influxdb: Settings, registry: Registry, unique: str) -> AsyncIterator[str]:
    """A database of its own with the sample county's series written as the recorder writes them; dropped after."""
    database = f"hz_dash_{unique}"
    await seed_county(influxdb, database, registry)
    yield database
    async with aiohttp.ClientSession() as session:
        await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{database}"'})
