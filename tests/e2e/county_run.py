"""The end-to-end test's scenario and its judgement: shipped scenarios played together on a county,
and the alarms the platform raised matched against their ground truth (expect / forbid windows)."""

from __future__ import annotations

from pathlib import Path

import yaml

from device_sim.scenario import SCENARIO_DIR, ExpectedAlarm, Scenario, load_scenario

# Limit levels with confirmation (and a spike that must not confirm), a fire event and a low_low
# pressure, a two-detector vote: three enterprises, one hour of device time each.
E2E_SCENARIOS = ("tank_overfill", "fire_and_pump", "gas_leak_vote")
OPENING = ("raised", "confirmed", "escalated")


def combined_scenario(directory: Path, names: tuple[str, ...] = E2E_SCENARIOS) -> tuple[Path, Scenario]:
    """One scenario file holding the named scenarios' injections and ground truth."""
    parts = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in names]
    scenario = Scenario(name="e2e", description="端到端：" + "；".join(p.description for p in parts),
                        duration_s=max(p.duration_s for p in parts), seed=3,
                        enterprises=sorted({e for p in parts for e in p.enterprises}),
                        injections=[i for p in parts for i in p.injections],
                        expect=[a for p in parts for a in p.expect], forbid=[a for p in parts for a in p.forbid])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "e2e.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), allow_unicode=True))
    return path, scenario


def matches(truth: ExpectedAlarm, transition: dict) -> bool:
    """Whether an alarm transition (wire.AlarmTransition) is the one ``truth`` describes, window aside."""
    subject = transition["point"] == truth.point if truth.point else transition["device"] == truth.device
    return (subject and transition["enterprise"] == truth.enterprise and transition["rule"] == truth.rule
            and truth.level in (None, transition["level"]))


def in_window(truth: ExpectedAlarm, transition: dict, start_ms: int) -> bool:
    low, high = truth.window_ms(start_ms)
    return low <= transition["reading_ts"] <= high
