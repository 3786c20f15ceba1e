"""The time between two Kafka flushes follows the message rate of about the last second
(``ingest.adapter.MessageRate``, ``flush_interval_s``): the shortest on a quiet platform, so an
alarm's reading waits least there, also when devices report in bursts on the same tick; longer
under a sustained load, so records carry more readings; never outside the two bounds."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.settings import Settings
from ingest.adapter import MessageRate, flush_interval_s

PACE = {"ingest_flush_interval_s": 0.025, "ingest_flush_interval_max_s": 0.1, "ingest_flush_busy_rate": 1000.0}


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(home=tmp_path, **PACE)


def rate_after(flushes: list[tuple[int, float]]) -> float:
    """The rate after flushes of (messages, seconds since the previous flush)."""
    rate = MessageRate()
    return [rate.add(messages, over_s) for messages, over_s in flushes][-1]


@pytest.mark.parametrize(("messages_per_s", "expected"), [
    (0.0, 0.025),       # quiet
    (100.0, 0.025),     # 1 000 readings/s at 10 a message: 0.01 s paced, the shortest applies
    (500.0, 0.05),      # half the busy rate: half the longest
    (1000.0, 0.1),      # the busy rate
    (10_000.0, 0.1),    # ten times the busy rate: the longest
])
def test_interval_follows_the_rate_within_its_bounds(settings: Settings, messages_per_s: float,
                                                     expected: float) -> None:
    assert flush_interval_s(settings, messages_per_s) == pytest.approx(expected)


def test_interval_grows_with_the_rate(settings: Settings) -> None:
    intervals = [flush_interval_s(settings, rate) for rate in range(0, 2000, 50)]
    assert intervals == sorted(intervals)
    assert intervals[0] == settings.ingest_flush_interval_s
    assert intervals[-1] == settings.ingest_flush_interval_max_s
    assert len(set(intervals)) > 10   # grows by steps of the rate, not a switch


def test_the_shortest_wins_over_a_smaller_longest(tmp_path: Path) -> None:
    settings = Settings(home=tmp_path, **{**PACE, "ingest_flush_interval_max_s": 0.01})
    assert flush_interval_s(settings, 5000.0) == 0.025


def test_a_sustained_rate_is_measured() -> None:
    assert rate_after([(200, 0.1)] * 50) == pytest.approx(2000, rel=0.1)    # 2 000 messages/s for 5 s
    assert rate_after([(3, 0.025)] * 200) == pytest.approx(120, rel=0.1)    # 120/s


def test_bursts_on_a_tick_do_not_set_the_pace(settings: Settings) -> None:
    """40 devices reporting on the same tick, every 0.4 s (100 messages/s): each burst is one flush of 40
    messages, 1 600/s over its 25 ms, but the rate of the last second stays near 100/s."""
    bursts = [(40, 0.025), (0, 0.375)] * 25
    rates = []
    rate = MessageRate()
    for messages, over_s in bursts:
        rates.append(rate.add(messages, over_s))
    assert max(rates[10:]) < 200
    assert flush_interval_s(settings, max(rates[10:])) == settings.ingest_flush_interval_s


def test_the_rate_fades_when_quiet() -> None:
    assert rate_after([(200, 0.1)] * 50 + [(1, 10.0)]) < 2
