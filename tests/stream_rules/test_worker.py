"""Integration on the real Kafka broker with real ``hazmon rules worker`` processes: device_sim
scenarios produce their ground-truth alarms through Kafka, exactly the pure engine's transitions,
and a SIGKILL mid-scenario changes nothing in the output (same alarm ids, nothing twice)."""

from __future__ import annotations

from pathlib import Path

import pytest

from device_sim import generate, load_scenario
from device_sim.scenario import SCENARIO_DIR
from hazmon.registry import Registry
from hazmon.settings import Settings
from hazmon.topics import DEVICE_STATUS, EVENTS, READINGS
from tests.stream_rules.test_scenarios import START_MS, ground_truth_problems, run_scenario
from tests.stream_rules.worker_process import RulesWorker

pytestmark = pytest.mark.servers
SCENARIOS = ("tank_overfill", "fire_and_pump", "tailings_flood")   # one per enterprise of the sample registry
KINDS = {READINGS: "readings", EVENTS: "events", DEVICE_STATUS: "status"}


def _key(transitions: list[dict]) -> list[tuple[str, str, str | None]]:
    return sorted((t["id"], t["transition"], t["level"]) for t in transitions)


async def _produce_by_kind(worker: RulesWorker, records: list[tuple[str, dict]]) -> None:
    for topic, kind in KINDS.items():
        await worker.produce(kind, [r for t, r in records if t == topic])


async def test_scenarios_through_kafka_survive_a_kill(kafka: str, settings: Settings, registry: Registry,
                                                      unique: str, tmp_path: Path) -> None:
    scenarios = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in SCENARIOS]
    generated = [generate(s, registry, start_ms=START_MS) for s in scenarios]
    halves: tuple[list[tuple[str, dict]], list[tuple[str, dict]]] = ([], [])
    for run in generated:
        records = run.wire_records()
        halves[0].extend(records[: len(records) // 2])
        halves[1].extend(records[len(records) // 2:])
    expected = _key(run_scenario(registry, halves[0] + halves[1]))
    assert len(expected) >= 6

    worker = RulesWorker(settings, unique, tmp_path)
    await worker.create_topics()
    await _produce_by_kind(worker, halves[0])
    worker.start()
    try:
        before_kill = await worker.transitions(until=1, timeout_s=90)
        assert before_kill, worker.log.read_text()[-3000:]
        worker.kill()                      # SIGKILL: no goodbye; its open transaction is aborted
        await _produce_by_kind(worker, halves[1])
        worker.start()
        after = await worker.transitions(until=len(expected), timeout_s=150, quiet_s=6)
    finally:
        worker.kill()
    assert _key(after) == expected, worker.log.read_text()[-3000:]
    for scenario, run in zip(scenarios, generated):
        assert ground_truth_problems(scenario, run, after) == []
