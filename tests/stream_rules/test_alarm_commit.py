"""An alarm transition commits at once, not at the commit interval; only its partition's transaction does.

Under exactly-once a transition is visible to alerting (``read_committed``) only when its transaction
commits. Faust commits on a timer (``rules_commit_s``): an alarm would wait for it, and for the
commit of every partition's transaction. Here the interval is an hour, so a transition arrives at all
only if its batch commits it; and a quiet partition, whose reading was processed, must stay for the
timer: its offset not committed, and its state not even written into its transaction (it would be
written again at its own commit: each write of an enterprise's state is its whole state).
"""

from __future__ import annotations

import asyncio
import re
import time
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient

from hazmon.settings import Settings
from stream_rules.worker import partition_of
from tests.stream_rules.county import REGISTRY_YAML, T0
from tests.stream_rules.worker_process import RulesWorker

pytestmark = pytest.mark.servers
ARRIVAL_TIMEOUT_S = 150    # a worker's start and one batch on a loaded machine; the commit interval is 3 600 s
ROUNDS = 20                # alarms sent until the quiet reading has been processed before one of them commits
PROCESSED = re.compile(r"rules processed since the last tick .*\breadings=1\b")   # the deadman clock's count


def _two_enterprises(partitions: int) -> tuple[str, str]:
    """An enterprise that alarms and a quiet one, on different partitions."""
    alarming = "TESTENT01"
    quiet = next(e for e in (f"TESTENT{n:02d}" for n in range(2, 100))
                 if partition_of(e, partitions) != partition_of(alarming, partitions))
    return alarming, quiet


def _now_ms() -> int:
    """Receiving times are now: with old ones the deadman, which ticks every second here, raises the platform's
    data outage (nothing received for minutes), whose transition commits a partition of its own."""
    return int(time.time() * 1000)


def _start_event(enterprise: str, k: int) -> dict:
    """A controller ``start``: one ``recorded`` transition, its id from the event's time."""
    ts = T0 + k * 1000
    return {"v": 1, "enterprise": enterprise, "device": "FAC1", "point": "Z1", "event": "start", "ts": ts,
            "ts_src": 0, "text": "3F", "recv_ms": _now_ms()}


def _quiet_reading(enterprise: str) -> dict:
    """A reading inside every limit: it changes the enterprise's state and makes no transition."""
    return {"v": 1, "enterprise": enterprise, "device": "RTU2", "recv_ms": _now_ms(), "points": ["ST"], "ts": [T0],
            "values": [20.0], "q": [0], "ts_src": [0]}


async def _ends(bootstrap: str, tp: TopicPartition, isolation_level: str) -> int:
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level=isolation_level, enable_auto_commit=False)
    await consumer.start()
    try:
        return (await consumer.end_offsets([tp]))[tp]
    finally:
        await consumer.stop()


async def _committed_offsets(bootstrap: str, group: str, until: tuple[TopicPartition, int]) -> dict[TopicPartition, int]:
    """The group's committed offsets once ``until`` (partition, offset) is among them: the broker writes a
    transaction's offsets to the group a moment after its outputs become visible."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        for _ in range(60):
            offsets = await admin.list_consumer_group_offsets(group)
            committed = {tp: meta.offset for tp, meta in offsets.items() if meta.offset >= 0}
            if committed.get(until[0]) == until[1]:
                break
            await asyncio.sleep(0.5)
        return committed
    finally:
        await admin.close()


async def test_a_transition_commits_at_once_and_alone(kafka: str, settings: Settings, unique: str,
                                                      tmp_path: Path) -> None:
    registry = tmp_path / "registry"
    registry.mkdir()
    alarming, quiet = _two_enterprises(settings.kafka_partitions)
    for enterprise in (alarming, quiet):
        (registry / f"{enterprise}.yaml").write_text(REGISTRY_YAML.replace("TESTENT01", enterprise), encoding="utf-8")
    worker = RulesWorker(settings, unique, tmp_path)
    worker.env.update({"HAZMON_REGISTRY_DIR": str(registry), "HAZMON_RULES_COMMIT_S": "3600", "HAZMON_RULES_TICK_S": "1"})
    await worker.create_topics()
    app_id = worker.env["HAZMON_RULES_APP_ID"]
    quiet_state = TopicPartition(f"{app_id}-rules-state-changelog", partition_of(quiet, settings.kafka_partitions))
    arrived: list[dict] = []
    try:
        await worker.produce("readings", [_quiet_reading(quiet)])
        worker.start()
        processed = False
        for k in range(ROUNDS):
            await worker.produce("events", [_start_event(alarming, k)])
            arrived = await worker.transitions(until=k + 1, timeout_s=ARRIVAL_TIMEOUT_S, quiet_s=0.5)
            assert len(arrived) == k + 1, worker.log.read_text()[-3000:]   # committed within the hour's interval
            if processed:
                break     # this alarm committed after the quiet reading had been processed
            processed = PROCESSED.search(worker.log.read_text()) is not None
            await asyncio.sleep(0.5)
        else:
            pytest.fail(f"the quiet reading was not processed in {ROUNDS} rounds: {worker.log.read_text()[-3000:]}")
        quiet_state_written = await _ends(kafka, quiet_state, "read_uncommitted")
        events_tp = TopicPartition(worker.topics["events"], partition_of(alarming, settings.kafka_partitions))
        committed = await _committed_offsets(kafka, app_id, until=(events_tp, len(arrived)))
        quiet_state_committed = await _ends(kafka, quiet_state, "read_committed")
    finally:
        worker.kill()
    assert {t["enterprise"] for t in arrived} == {alarming}
    readings_tp = TopicPartition(worker.topics["readings"], quiet_state.partition)
    assert committed.get(events_tp) == len(arrived)       # the alarm's partition: committed with its outputs
    assert readings_tp not in committed                    # the quiet partition: left for the timer
    assert quiet_state_committed == 0                      # its state not committed
    assert quiet_state_written == 0                        # nor written (before 2026-12-07 it was, at every alarm's commit)
