"""Alarm truth under field conditions (issue 13, §8 rev 1.1): a generated county with realistic
noise, skewed and backfilling gateways, a county-wide outage, dead channels, pinned detectors,
leaks, steps and real trends, through the rule engine in process: no false alarm, no miss.

The week-long county is small enough for every test run; ``bench/false_alarms.py`` runs the goal
(30 enterprises × 30 days, two seeds)."""

from __future__ import annotations

import pytest

from testbed.false_alarms import judge_county


@pytest.mark.parametrize("seed", [3, 4])
def test_a_field_week_raises_every_true_alarm_and_nothing_else(seed: int) -> None:
    result = judge_county(days=7, enterprises=6, seed=seed)
    summary = result.summary()
    kinds = {c.kind for c in result.conditions}
    assert {"backfill", "dead_channel", "gas_pinned", "gas_leak", "displacement_trend", "beach_step"} <= kinds, kinds
    assert summary["per_rule"]["platform"]["expected"] >= 1       # the week's county-wide outage
    assert summary["false_alarms"] == 0 and summary["recall"] == 1.0, "\n".join(result.explain())
    assert summary["expected"] >= 20
