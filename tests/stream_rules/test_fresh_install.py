"""A fresh install (§8 rev 1.1): the rules worker starts before any of its topics exists; the first
fire event and the first offline status published afterwards are alarms like any others."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.kafka_topics import topic_configs
from hazmon.settings import Settings
from hazmon.topics import keeping
from testbed.kafka_admin import topic_names
from tests.stream_rules.worker_process import RulesWorker

pytestmark = pytest.mark.servers
FIRE_ENT = "12433127MB1FIRE003"   # of the sample registry, which the worker runs on
T0 = 1_764_376_800_000


async def test_the_first_fire_and_offline_status_after_a_fresh_start_are_alarms(
        kafka: str, settings: Settings, unique: str, tmp_path: Path) -> None:
    worker = RulesWorker(settings, unique, tmp_path)
    assert not set(worker.topics.values()) & await topic_names(kafka)     # nothing exists yet
    worker.start()
    try:
        await worker.wait_members(1, timeout_s=90)
        assert set(worker.topics.values()) <= await topic_names(kafka)   # the worker made them, not a producer
        await worker.produce("events", [{"v": 1, "enterprise": FIRE_ENT, "device": "FAC1", "point": "FAC1_Z07",
                                         "event": "fire", "ts": T0, "ts_src": 0, "text": "3F", "recv_ms": T0}])
        await worker.produce("status", [{"v": 1, "enterprise": FIRE_ENT, "device": "FTU01", "online": False,
                                         "ts": T0 + 1_000, "recv_ms": T0 + 1_000}])
        out = await worker.transitions(until=2, timeout_s=60, quiet_s=2)
    finally:
        worker.kill()
    log = worker.log.read_text()
    assert sorted((t["rule"], t["transition"]) for t in out) == [("fire", "confirmed"), ("offline", "raised")], log[-3000:]
    assert "Ignoring missing topic" not in log and "restarting" not in log, log[-3000:]


def test_alarm_topics_are_kept_for_good_and_inputs_for_days(settings: Settings) -> None:
    assert topic_configs("hazmon.alarm-transitions.v1.e2e-x", settings)["retention.ms"] == "-1"
    assert topic_configs("hazmon.alarm-actions.v1", settings)["retention.ms"] == "-1"
    assert topic_configs("hazmon.readings.v1", settings)["retention.ms"] == str(7 * 86_400_000)
    with pytest.raises(ValueError):
        keeping("somebody-elses-topic")
