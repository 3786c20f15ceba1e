"""Every shipped scenario is valid, deterministic, and its ground truth follows from its readings."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import ValidationError

from hazmon import topics
from hazmon.registry import Registry

from device_sim import generate, load_scenario, shipped_scenarios
from device_sim.scenario import Scenario

from tests.device_sim.conftest import START_MS
from tests.device_sim.truth_oracle import alarm_times

SCENARIOS = shipped_scenarios()


def test_scenarios_are_shipped() -> None:
    assert len(SCENARIOS) >= 8


@pytest.mark.parametrize("start_ms", [START_MS, START_MS + 7 * 3_600_000 + 1_234_567], ids=["16h", "23h"])
@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_expected_alarms_follow_from_the_readings(path: Path, sample_registry: Registry, start_ms: int) -> None:
    """At any start (daily cycles shift with it) the windows hold."""
    scenario = load_scenario(path)
    run = generate(scenario, sample_registry, start_ms)
    for alarm in scenario.expect:
        low, high = alarm.window_ms(start_ms)
        times = alarm_times(sample_registry, run, alarm)
        assert any(low <= t <= high for t in times), f"{path.stem}: expected {alarm} not called for; at {times[:5]}"
    for alarm in scenario.forbid:
        low, high = alarm.window_ms(start_ms)
        times = [t for t in alarm_times(sample_registry, run, alarm) if low <= t <= high]
        assert not times, f"{path.stem}: forbidden {alarm} called for at {[(t - start_ms) / 1000 for t in times[:5]]}"


@pytest.mark.parametrize("path", SCENARIOS, ids=lambda p: p.stem)
def test_generation_is_deterministic(path: Path, sample_registry: Registry) -> None:
    scenario = load_scenario(path)
    first = generate(scenario, sample_registry, START_MS)
    second = generate(scenario, sample_registry, START_MS)
    assert [m.payload() for m in first.messages] == [m.payload() for m in second.messages]
    assert first.wire_records() == second.wire_records()


def test_seq_increases_per_device_except_for_injected_disorder(sample_registry: Registry) -> None:
    run = generate(load_scenario(SCENARIOS[0].parent / "tank_overfill.yaml"), sample_registry, START_MS)
    seqs = [m.seq for m in run.messages if m.kind == "telemetry" and m.device == "RTU01"]
    assert seqs == list(range(len(seqs)))


def test_transport_faults_carry_their_refusals(sample_registry: Registry) -> None:
    run = generate(load_scenario(SCENARIOS[0].parent / "transport_faults.yaml"), sample_registry, START_MS)
    refusals = sorted(m.refusal for m in run.messages if m.refusal)
    assert refusals == ["acl", "bad_json", "bad_shape", "bad_version", "duplicate", "duplicate"]
    foreign = next(m for m in run.messages if m.refusal == "acl")
    assert foreign.topic == "hazmon/v1/91433127MA4MINE002/RTU01/telemetry"
    reordered = [m for m in run.messages if m.kind == "telemetry" and m.refusal is None and 600 <= m.at_s < 660]
    assert [m.seq for m in reordered] == sorted((m.seq for m in reordered), reverse=True)


def test_offline_drops_the_connection_and_wire_has_the_will(sample_registry: Registry) -> None:
    run = generate(load_scenario(SCENARIOS[0].parent / "device_offline.yaml"), sample_registry, START_MS)
    gnss = [m for m in run.messages if m.device == "GNSS1"]
    assert [m.kind for m in gnss if m.kind != "telemetry"] == ["status", "drop", "status"]
    assert not [m for m in gnss if m.kind == "telemetry" and 1800 <= m.at_s < 5400]
    statuses = [r for t, r in run.wire_records() if t == topics.DEVICE_STATUS and r["device"] == "GNSS1"]
    assert [s["online"] for s in statuses] == [True, False, True]


def test_a_bad_scenario_names_its_fault(tmp_path: Path) -> None:
    path = tmp_path / "bad.yaml"
    path.write_text("name: x\ndescription: y\nduration_s: 60\nenterprises: [E]\n"
                    "injections:\n  - {kind: ramp, enterprise: E, point: P, at_s: 0, over_s: -1, to: 3}\n")
    with pytest.raises(ValidationError, match="over_s"):
        load_scenario(path)


def test_a_scenario_naming_an_unknown_point_is_refused(sample_registry: Registry) -> None:
    scenario = Scenario.model_validate({
        "name": "x", "description": "y", "duration_s": 60, "enterprises": ["91433127MA4CHEM001"],
        "injections": [{"kind": "step", "enterprise": "91433127MA4CHEM001", "point": "NOPE", "at_s": 0, "value": 1}]})
    with pytest.raises(ValueError, match="NOPE"):
        generate(scenario, sample_registry, START_MS)
