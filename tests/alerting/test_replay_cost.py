"""Alerting's start-up replay of a long alarm log. bench/desk.py saw 10 000 open alarms hold the
event loop 56–90 s at a start (bench/alarm_record.py --open-every 1 --enterprises 5: first fold
38 s): each change recomputed its enterprise's colour over all of that enterprise's open alarms
(quadratic in a busy enterprise's alarms), and the whole history was folded without yielding, so the
API, the desk and the health check did not answer while it caught up. Counted here, not timed: the
colour evaluations the replay makes and the longest run of records it folds without letting the
event loop run anything else."""

from __future__ import annotations

import asyncio
from collections import Counter

import pytest

from alerting import risk
from alerting.kafka_log import AlarmLog
from testbed.alerting import T0, transition

pytestmark = pytest.mark.servers
ALARMS = 3000                       # open alarms of one enterprise
POINTS = ("TK01_LT", "TK01_TT", "TK01_PT")


async def test_a_long_replay_costs_in_proportion_and_lets_the_loop_run(start_service, produce, names,
                                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    await produce(names.transitions, [transition(f"open-{i}", "confirmed", POINTS[i % 3], at=T0 + i)
                                      for i in range(ALARMS)])
    evaluations = 0
    alarm_risk_level = risk.alarm_risk_level

    def counted(*args, **kwargs) -> int:  # noqa: ANN002, ANN003
        nonlocal evaluations
        evaluations += 1
        return alarm_risk_level(*args, **kwargs)

    monkeypatch.setattr(risk, "alarm_risk_level", counted)
    turns = 0

    async def turn_counter() -> None:
        nonlocal turns
        while True:
            await asyncio.sleep(0)
            turns += 1

    turn_of_each_fold: list[int] = []
    fold = AlarmLog._fold

    def noted_fold(self: AlarmLog, topic: str, record: dict, live: bool) -> None:
        turn_of_each_fold.append(turns)
        fold(self, topic, record, live)

    monkeypatch.setattr(AlarmLog, "_fold", noted_fold)
    counter = asyncio.create_task(turn_counter())
    try:
        service = await start_service()
    finally:
        counter.cancel()
    assert sum(1 for a in service.book.alarms.values() if a.is_open) == ALARMS
    assert service.risk.current(transition("x", "confirmed", "TK01_LT")["enterprise"]).active_alarms == ALARMS
    assert len(turn_of_each_fold) == ALARMS
    assert evaluations <= 20 * ALARMS, f"{evaluations} colour evaluations for {ALARMS} changes"
    longest = max(Counter(turn_of_each_fold).values())
    assert longest <= 1000, f"{longest} records folded without the event loop running anything else"
