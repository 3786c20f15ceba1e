"""The end-to-end runs' combined ground truth, without servers (seconds): at two times of day it
follows from the readings (device_sim's truth oracle and :mod:`tests.e2e.truth`), and the rule engine
fed the same records in process agrees with it. A scenario change that breaks a run shows here first.
"""

from __future__ import annotations

import pytest

from hazmon.registry import Registry, load_registry
from hazmon.settings import PACKAGE_DIR
from tests.e2e.runs import RUNS, RunSpec, combined
from tests.e2e.truth import played, truth_problems
from tests.stream_rules.test_scenarios import START_MS, ground_truth_problems, run_scenario


@pytest.fixture(scope="module")
def sample_registry() -> Registry:
    return load_registry(PACKAGE_DIR / "sample_registry")


@pytest.mark.parametrize("start_ms", [START_MS, START_MS + 7 * 3_600_000 + 1_234_567], ids=["16h", "23h"])
@pytest.mark.parametrize("spec", RUNS.values(), ids=lambda spec: spec.name)
def test_the_combined_truth_holds_and_the_engine_agrees(spec: RunSpec, start_ms: int, sample_registry: Registry) -> None:
    scenario, truth = combined(spec, {})
    run = played(scenario, sample_registry, start_ms, spec.speed, whole_county=False)
    assert truth_problems(sample_registry, run, truth) == []
    out = run_scenario(sample_registry, run.wire_records())
    assert ground_truth_problems(truth, run, out) == []   # type: ignore[arg-type]  # a Truth reads like a Scenario here
