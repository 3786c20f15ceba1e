"""Fixtures of the end-to-end tests: per run of :mod:`tests.e2e.runs`, a county of 20 generated
enterprises plus the sample registry's three, renamed with ids of the run's own, an isolated
pipeline on it and one disturbed run of it (about two minutes each), shared by the tests of a module.
``outcome`` gives each run in turn.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator

import pytest

from device_sim.county import county_with_sample
from hazmon.registry import load_registry
from hazmon.settings import PACKAGE_DIR, Settings
from hzctl.stack.mosquitto import register_enterprises
from tests.conftest import _require
from tests.e2e.county_run import Outcome, play
from testbed.pipeline import IsolatedPipeline
from tests.e2e.runs import COUNTY, RUNS, TAILINGS, RunSpec, combined, isolated_county
from testbed.kafka_admin import unique_name

COUNTY_ENTERPRISES = 20   # generated, plus the sample registry's three that the shipped scenarios name
COUNTY_SEED = 8


def _outcome(spec: RunSpec, settings: Settings, stack_health: dict[str, str | None],
             tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    for server in ("mosquitto", "kafka", "influxdb"):
        _require(stack_health, server)
    root = tmp_path_factory.mktemp(f"e2e-{spec.name}")
    unique = unique_name()
    source = county_with_sample(root, COUNTY_ENTERPRISES, COUNTY_SEED, PACKAGE_DIR / "sample_registry")
    ids = isolated_county(source, root / "county", unique)
    scenario, truth = combined(spec, ids)
    secrets = register_enterprises(settings, root / "county")
    run = IsolatedPipeline(settings, root / "home", root / "county", unique, secrets.duty_token,
                           escalate_s=spec.escalate_s, enterprises=tuple(ids.values()))
    asyncio.run(run.create_topics())
    try:
        yield asyncio.run(play(run, spec, scenario, truth, load_registry(root / "county")))
    finally:
        run.supervisor.stop_all()
        asyncio.run(run.drop_database())


@pytest.fixture(scope="module")
def county_outcome(settings: Settings, stack_health: dict[str, str | None],
                   tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    yield from _outcome(COUNTY, settings, stack_health, tmp_path_factory)


@pytest.fixture(scope="module")
def tailings_outcome(settings: Settings, stack_health: dict[str, str | None],
                     tmp_path_factory: pytest.TempPathFactory) -> Iterator[Outcome]:
    yield from _outcome(TAILINGS, settings, stack_health, tmp_path_factory)


@pytest.fixture(params=list(RUNS))
def outcome(request: pytest.FixtureRequest) -> Outcome:
    return request.getfixturevalue(f"{request.param}_outcome")
