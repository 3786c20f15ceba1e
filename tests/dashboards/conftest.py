"""Fixtures of the dashboards tests: the generated models of the sample registry, in both languages, and a
seeded county's InfluxDB database."""

from __future__ import annotations


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
async def county(influxdb: Settings, registry: Registry, database: str) -> str:
    """A database of its own with the sample county's series written as the recorder writes them; dropped after."""
    await seed_county(influxdb, database, registry)
    return database
