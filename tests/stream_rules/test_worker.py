"""Integration on the real Kafka broker with real ``hazmon rules worker`` processes: device_sim
scenarios produce their ground-truth alarms through Kafka, exactly the pure engine's transitions,
and a SIGKILL mid-scenario changes nothing in the output (same alarm ids, nothing twice)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import pytest

from device_sim import generate, load_scenario
from device_sim.scenario import SCENARIO_DIR
from hazmon.registry import Registry
from hazmon.settings import Settings
from hazmon.topics import DEVICE_STATUS, EVENTS, READINGS
from tests.stream_rules.county import DEVICES, ENT, NORMAL, REGISTRY_YAML, T0, record, write_registry
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


def _scenario_halves(registry: Registry) -> tuple[list, list, list[tuple[str, str, str | None]], list]:
    """The scenarios' records cut in two halves, the pure engine's output on all of them, and the runs."""
    scenarios = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in SCENARIOS]
    runs = [(s, generate(s, registry, start_ms=START_MS)) for s in scenarios]
    first: list[tuple[str, dict]] = []
    second: list[tuple[str, dict]] = []
    for _, run in runs:
        records = run.wire_records()
        first.extend(records[: len(records) // 2])
        second.extend(records[len(records) // 2:])
    return first, second, _key(run_scenario(registry, first + second)), runs


async def test_scenarios_through_kafka_survive_a_kill(kafka: str, settings: Settings, registry: Registry,
                                                      unique: str, tmp_path: Path) -> None:
    first, second, expected, runs = _scenario_halves(registry)
    assert len(expected) >= 6
    worker = RulesWorker(settings, unique, tmp_path)
    await worker.create_topics()
    await _produce_by_kind(worker, first)
    worker.start()
    try:
        before_kill = await worker.transitions(until=1, timeout_s=90)
        assert before_kill, worker.log.read_text()[-3000:]
        worker.kill()                      # SIGKILL: no goodbye; its open transaction is aborted
        await _produce_by_kind(worker, second)
        worker.start()
        after = await worker.transitions(until=len(expected), timeout_s=150, quiet_s=6)
    finally:
        worker.kill()
    assert _key(after) == expected, worker.log.read_text()[-3000:]
    for scenario, run in runs:
        assert ground_truth_problems(scenario, run, after) == []


async def test_a_kill_between_output_and_commit_repeats_nothing(kafka: str, settings: Settings, registry: Registry,
                                                                unique: str, tmp_path: Path) -> None:
    """SIGKILL the worker the moment it has sent an output (before its transaction can commit), three times.

    Outputs written outside the input's transaction would be committed already and sent again by the
    next worker; inside it they are aborted with the offsets and sent once more, once."""
    first, second, expected, _ = _scenario_halves(registry)
    worker = RulesWorker(settings, unique, tmp_path)
    await worker.create_topics()
    await _produce_by_kind(worker, first + second)
    kills = 0
    try:
        async with worker.uncommitted_output() as output:
            while kills < 3:
                worker.start()
                batches = await output.getmany(timeout_ms=60_000)
                assert batches, worker.log.read_text()[-3000:]
                worker.kill()              # the batch's transaction is still open: the broker aborts it
                kills += 1
        worker.start()
        after = await worker.transitions(until=len(expected), timeout_s=150, quiet_s=6)
    finally:
        worker.kill()
    assert _key(after) == expected, worker.log.read_text()[-3000:]


@pytest.mark.parametrize("survivor_alone_first", [False, True], ids=["together", "survivor-held-all-first"])
async def test_two_workers_split_and_take_over(kafka: str, settings: Settings, registry: Registry,
                                               unique: str, tmp_path: Path, survivor_alone_first: bool) -> None:
    """The survivor takes over the dead worker's partitions and the output is the engine's, each transition
    once. Survivor first: it held every partition until the other joined (their producers moved)."""
    first, second, expected, _ = _scenario_halves(registry)
    worker = RulesWorker(settings, unique, tmp_path)
    await worker.create_topics()
    worker.start()
    try:
        if survivor_alone_first:
            await _produce_by_kind(worker, first)
            assert await worker.transitions(until=1, timeout_s=90), worker.log.read_text()[-3000:]
            doomed = worker.start()
            await worker.wait_members(2, timeout_s=60)
        else:
            doomed = worker.start()
            await _produce_by_kind(worker, first)
            assert await worker.transitions(until=1, timeout_s=90), worker.log.read_text()[-3000:]
        worker.kill(doomed)                # the survivor takes its partitions after the session timeout
        await _produce_by_kind(worker, second)
        after = await worker.transitions(until=len(expected), timeout_s=150, quiet_s=12)
    finally:
        worker.kill()
    assert _key(after) == expected, worker.log.read_text()[-3000:]


def _small_county_worker(settings: Settings, unique: str, tmp_path: Path, **env: str) -> RulesWorker:
    """A worker on the small test registry (tests.stream_rules.county), with settings overridden by ``env``."""
    write_registry(tmp_path / "registry")
    worker = RulesWorker(settings, unique, tmp_path)
    worker.env.update({"HAZMON_REGISTRY_DIR": str(tmp_path / "registry"), **env})
    return worker


async def test_the_deadman_raises_one_platform_alarm_when_nothing_arrives(kafka: str, settings: Settings,
                                                                         unique: str, tmp_path: Path) -> None:
    """Every device reports once, then nothing arrives from anyone: the ticks (every second of wall
    time) raise one platform alarm (平台数据中断) after 3 × the shortest period (30 s), and no device
    is turned offline (§8 rev 1.1: the platform's outage is not the county's)."""
    worker = _small_county_worker(settings, unique, tmp_path, HAZMON_RULES_TICK_S="1", HAZMON_RULES_LATENESS_S="0",
                                  HAZMON_RULES_PLATFORM_OUTAGE_S="5")
    await worker.create_topics()
    worker.start()
    try:
        now_ms = int(time.time() * 1000)
        await worker.produce("readings", [record(device, now_ms, {p: NORMAL[p] for p in points})
                                          for device, points in DEVICES.items()])
        out = await worker.transitions(until=1, timeout_s=90, quiet_s=5)
    finally:
        worker.kill()
    assert [(t["enterprise"], t["rule"], t["transition"]) for t in out] == [("platform", "platform", "raised")], \
        worker.log.read_text()[-3000:]
    assert out[0]["started_at"] == now_ms


async def test_a_registry_change_takes_effect_without_a_restart(kafka: str, settings: Settings,
                                                               unique: str, tmp_path: Path) -> None:
    """LT reads 12 throughout; its high limit is lowered from 13 to 10 while the worker runs. Only
    RTU1 reports, so the other devices go offline on the way: only limit alarms are compared."""
    worker = _small_county_worker(settings, unique, tmp_path, HAZMON_RULES_REGISTRY_POLL_S="1")
    (tmp_path / "registry" / f"{ENT}.yaml").write_text(REGISTRY_YAML.replace("high: 10,", "high: 13,"), encoding="utf-8")
    await worker.create_topics()
    worker.start()

    async def readings(start_s: int) -> None:
        await worker.produce("readings", [record(device, T0 + (start_s + 10 * k) * 1000,
                                                 {p: 12.0 if p == "LT" else NORMAL[p] for p in points})
                                          for k in range(6) for device, points in DEVICES.items() if device == "RTU1"])
    try:
        await readings(0)
        assert await worker.transitions(until=0, timeout_s=30, quiet_s=8) == []
        write_registry(tmp_path / "registry")          # high: 10 again
        await asyncio.sleep(4)                         # polled every second
        await readings(60)
        out = await worker.transitions(until=1, timeout_s=60, quiet_s=5)
    finally:
        worker.kill()
    limits = [(t["transition"], t["level"], t["limit"]) for t in out if t["rule"] == "limit"]  # (the other devices go offline)
    assert limits == [("confirmed", "high", 10.0)], worker.log.read_text()[-3000:]
