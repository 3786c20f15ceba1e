"""Fixtures of the end-to-end tests: a county of 20+ enterprises and an isolated pipeline on it."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import pytest

from device_sim.county import county_with_sample
from hazmon.settings import PACKAGE_DIR, Settings
from hazmon.stack.mosquitto import register_enterprises
from tests.e2e.pipeline import IsolatedPipeline

COUNTY_ENTERPRISES = 20   # generated, plus the sample registry's three that the shipped scenarios name


@pytest.fixture
def pipeline(mosquitto: Settings, kafka: str, influxdb: Settings, unique: str, tmp_path: Path) -> Iterator[IsolatedPipeline]:
    settings = mosquitto
    county_dir = county_with_sample(tmp_path, COUNTY_ENTERPRISES, 8, PACKAGE_DIR / "sample_registry")
    secrets = register_enterprises(settings, county_dir)
    run = IsolatedPipeline(settings, tmp_path / "home", county_dir, unique, secrets.duty_token)
    asyncio.run(run.create_topics())
    yield run
    run.supervisor.stop_all()
    asyncio.run(run.drop_database())
