"""Integration on the real Kafka broker with real ``hazmon rules worker`` processes: the worker's
output equals the pure engine's on the same records, and a SIGKILL mid-scenario changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.registry import Registry
from hazmon.settings import Settings
from stream_rules.engine import RuleEngine
from tests.stream_rules import scenario
from tests.stream_rules.worker_process import RulesWorker

pytestmark = pytest.mark.servers


def _expected(registry: Registry, readings: list, events: list) -> list[tuple[str, str, str | None]]:
    engine = RuleEngine(registry)
    out = engine.process(events=events) + [t for r in readings for t in engine.process(readings=[r])]
    return sorted((t["id"], t["transition"], t["level"]) for t in out)


def _seen(transitions: list[dict]) -> list[tuple[str, str, str | None]]:
    return sorted((t["id"], t["transition"], t["level"]) for t in transitions)


async def test_worker_matches_engine_and_survives_kill(kafka: str, settings: Settings, registry: Registry,
                                                       unique: str, tmp_path: Path) -> None:
    first, second = scenario.readings(25), scenario.readings(35, start=25)
    events = scenario.fire_events()
    expected = _expected(registry, first + second, events)
    assert {t for _, t, _ in expected} >= {"confirmed", "escalated", "deescalated", "cleared"}
    worker = RulesWorker(settings, unique, tmp_path)
    await worker.create_topics()
    await worker.produce("events", events)
    await worker.produce("readings", first)
    worker.start()
    try:
        before_kill = await worker.transitions(until=3, timeout_s=90)
        assert before_kill, worker.log.read_text()
        worker.kill()                      # SIGKILL: no goodbye, open transaction aborted
        await worker.produce("readings", second)
        worker.start()
        after = await worker.transitions(until=len(expected), timeout_s=120, quiet_s=6)
    finally:
        worker.kill()
    assert _seen(after) == expected, worker.log.read_text()[-3000:]
