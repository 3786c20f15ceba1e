"""Alarm records' InfluxDB times: distinct per series and millisecond, the same again in the same order."""

from __future__ import annotations

from alerting.series_times import SeriesTimes


def test_a_taken_millisecond_moves_to_the_next_free_one_of_its_series() -> None:
    times = SeriesTimes()
    assert [times.claim("a", 100), times.claim("a", 100), times.claim("b", 100), times.claim("a", 101)] == [100, 101, 100, 102]


def test_the_same_claims_in_the_same_order_get_the_same_times() -> None:
    claims = [("a", 5), ("a", 5), ("b", 5), ("a", 6), ("a", 5)]
    first, again = SeriesTimes(), SeriesTimes()
    assert [first.claim(*c) for c in claims] == [again.claim(*c) for c in claims] == [5, 6, 5, 7, 8]


def test_claims_older_than_the_keep_window_are_forgotten() -> None:
    times = SeriesTimes(keep_ms=1_000)
    assert times.claim("a", 0) == 0
    assert times.claim("a", 5_000) == 5_000      # claim 0 is now 5 s behind the newest: forgotten
    assert times.claim("a", 0) == 0
