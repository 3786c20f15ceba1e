"""Fixtures of the end-to-end tests: a county of 20+ enterprises, an isolated pipeline on it, and
one disturbed run of it shared by the tests of a module (it takes about two minutes)."""

from __future__ import annotations

import asyncio
import uuid
from collections.abc import Iterator

import pytest

from device_sim.county import county_with_sample
from hazmon.settings import PACKAGE_DIR, Settings
from hazmon.stack.mosquitto import register_enterprises
from tests.conftest import _require
from tests.e2e.county_run import SPEED, CountyOutcome, play_county
from tests.e2e.pipeline import IsolatedPipeline

COUNTY_ENTERPRISES = 20   # generated, plus the sample registry's three that the shipped scenarios name


@pytest.fixture(scope="module")
def pipeline(settings: Settings, stack_health: dict[str, str | None],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[IsolatedPipeline]:
    for server in ("mosquitto", "kafka", "influxdb"):
        _require(stack_health, server)
    root = tmp_path_factory.mktemp("e2e")
    county_dir = county_with_sample(root, COUNTY_ENTERPRISES, 8, PACKAGE_DIR / "sample_registry")
    secrets = register_enterprises(settings, county_dir)
    run = IsolatedPipeline(settings, root / "home", county_dir, uuid.uuid4().hex[:10], secrets.duty_token,
                           rules_lateness_s=60.0 * SPEED)  # the worker's 60 s of reordering, in warped time
    asyncio.run(run.create_topics())
    yield run
    run.supervisor.stop_all()
    asyncio.run(run.drop_database())


@pytest.fixture(scope="module")
def county_outcome(pipeline: IsolatedPipeline) -> CountyOutcome:
    return asyncio.run(play_county(pipeline))
