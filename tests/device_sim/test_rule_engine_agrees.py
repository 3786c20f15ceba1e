"""Cross-check: the rule engine (stream_rules.engine, fed the scenario's wire records in arrival
order, no Kafka) confirms every alarm each shipped scenario expects, inside its window, and none it
forbids. A failure here means the scenario's truth or the engine departs from §8: read both."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon import topics
from hazmon.registry import Registry
from hazmon.wire import AlarmTransition

from device_sim import ExpectedAlarm, generate, load_scenario, shipped_scenarios
from stream_rules.engine import RuleEngine

from tests.device_sim.conftest import START_MS

OPENING = ("raised", "confirmed", "escalated")


def transitions(registry: Registry, path: Path) -> list[AlarmTransition]:
    run = generate(load_scenario(path), registry, START_MS)
    now = [START_MS]
    engine = RuleEngine(registry, clock=lambda: now[0])
    out: list[AlarmTransition] = []
    for topic, record in run.wire_records():
        now[0] = record["recv_ms"]
        kind = {topics.READINGS: "readings", topics.EVENTS: "events", topics.DEVICE_STATUS: "statuses"}[topic]
        out += engine.process(**{kind: [record]})
        out += engine.tick(now[0])
    return [t for t in out if t["transition"] in OPENING]


def matches(alarm: ExpectedAlarm, transition: AlarmTransition) -> bool:
    subject = transition["point"] == alarm.point if alarm.point else transition["device"] == alarm.device
    return (subject and transition["enterprise"] == alarm.enterprise and transition["rule"] == alarm.rule
            and alarm.level in (None, transition["level"]))


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_the_rule_engine_meets_the_ground_truth(path: Path, sample_registry: Registry) -> None:
    scenario = load_scenario(path)
    opened = transitions(sample_registry, path)
    for alarm in scenario.expect:
        low, high = alarm.window_ms(START_MS)
        assert any(matches(alarm, t) and low <= t["reading_ts"] <= high for t in opened), f"missing {alarm}"
    for alarm in scenario.forbid:
        low, high = alarm.window_ms(START_MS)
        wrong = [t for t in opened if matches(alarm, t) and low <= t["reading_ts"] <= high]
        assert not wrong, f"forbidden {alarm}: {wrong[:2]}"
