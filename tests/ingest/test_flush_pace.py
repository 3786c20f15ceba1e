"""The time between two Kafka flushes follows the message rate (``ingest.adapter.flush_interval_s``):
the shortest on a quiet platform, so an alarm's reading waits least there; longer under load, so
records carry more readings; never outside the two bounds."""

from __future__ import annotations

import pytest

from hazmon.settings import Settings
from ingest.adapter import flush_interval_s

PACE = {"ingest_flush_interval_s": 0.025, "ingest_flush_interval_max_s": 0.1, "ingest_flush_busy_rate": 1000.0}


@pytest.fixture
def settings(tmp_path) -> Settings:
    return Settings(home=tmp_path, **PACE)


@pytest.mark.parametrize(("messages", "over_s", "expected"), [
    (1, 3600.0, 0.025),     # the first message after an hour's quiet goes at the shortest wait
    (0, 0.0, 0.025),        # nothing over no time: quiet
    (5, 0.05, 0.025),       # 100 messages/s (1 000 readings/s): 0.01 s paced, the shortest applies
    (25, 0.05, 0.05),       # 500 messages/s: half the busy rate, half the longest
    (100, 0.1, 0.1),        # the busy rate
    (1000, 0.1, 0.1),       # ten times the busy rate: the longest
])
def test_interval_follows_the_rate_within_its_bounds(settings: Settings, messages: int, over_s: float,
                                                     expected: float) -> None:
    assert flush_interval_s(settings, messages, over_s) == pytest.approx(expected)


def test_interval_grows_with_the_rate(settings: Settings) -> None:
    intervals = [flush_interval_s(settings, messages, 0.1) for messages in range(0, 200, 5)]
    assert intervals == sorted(intervals)
    assert intervals[0] == settings.ingest_flush_interval_s
    assert intervals[-1] == settings.ingest_flush_interval_max_s
    assert len(set(intervals)) > 10   # grows by steps of the rate, not a switch


def test_the_shortest_wins_over_a_smaller_longest(tmp_path) -> None:
    settings = Settings(home=tmp_path, **{**PACE, "ingest_flush_interval_max_s": 0.01})
    assert flush_interval_s(settings, 1000, 0.1) == 0.025
