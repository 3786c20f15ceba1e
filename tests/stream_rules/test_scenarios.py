"""device_sim's shipped scenarios through the engine: every expected alarm is confirmed inside its
window, and nothing forbidden appears inside its window (the scenarios' ground truth)."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_sim import generate, load_scenario, shipped_scenarios
from device_sim.scenario import Scenario
from device_sim.stream import ScenarioRun
from hazmon.registry import Registry
from hazmon.topics import DEVICE_STATUS, EVENTS, READINGS
from hazmon.wire import AlarmTransition
from stream_rules.engine import RuleEngine

START_MS = 1_764_000_000_000
OPENING = ("raised", "confirmed", "escalated")


def run_scenario(registry: Registry, records: list[tuple[str, dict]]) -> list[AlarmTransition]:
    engine = RuleEngine(registry, clock=lambda: 0)
    out: list[AlarmTransition] = []
    kinds = {READINGS: "readings", EVENTS: "events", DEVICE_STATUS: "statuses"}
    for topic, record in records:
        out += engine.process(**{kinds[topic]: [record]})
    return out


def _matches(t: AlarmTransition, alarm, window: tuple[int, int]) -> bool:
    if t["enterprise"] != alarm.enterprise or t["rule"] != alarm.rule:
        return False
    if alarm.point is not None and t["point"] != alarm.point:
        return False
    if alarm.device is not None and t["device"] != alarm.device:
        return False
    if alarm.level is not None and t["level"] != alarm.level:
        return False
    return window[0] <= t["reading_ts"] <= window[1] and t["transition"] in OPENING


def ground_truth_problems(scenario: Scenario, run: ScenarioRun, out: list) -> list[str]:
    """What in ``out`` disagrees with the scenario's truth: expected alarms missing, forbidden ones present."""
    missing = [f"missing {a}" for a in scenario.expect if not any(_matches(t, a, a.window_ms(run.start_ms)) for t in out)]
    unwanted = [f"forbidden {a}: {t['id']}" for a in scenario.forbid for t in out if _matches(t, a, a.window_ms(run.start_ms))]
    return missing + unwanted


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: Path(p).stem)
def test_scenario_ground_truth(registry: Registry, path: Path) -> None:
    scenario = load_scenario(path)
    run = generate(scenario, registry, start_ms=START_MS)
    out = run_scenario(registry, run.wire_records())
    opened = sorted({(t["rule"], t["point"] or t["device"], t["level"], t["transition"]) for t in out})
    assert ground_truth_problems(scenario, run, out) == [], f"raised: {opened}"


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_no_alarm_changes_before_it_started(registry: Registry, path: Path) -> None:
    run = generate(load_scenario(path), registry, START_MS)
    out = run_scenario(registry, run.wire_records())
    early = [t for t in out if t["reading_ts"] < t["started_at"]]
    assert not early, early
