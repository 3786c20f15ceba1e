"""Both timestamp forms of the data standard §3."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ingest.timestamps import MAX_FUTURE_MS, good_ms_range, parse_ts, too_far_ahead, ts_problem


@pytest.mark.parametrize(("text", "ms"), [
    ("2025-11-29T08:40:00.123+08:00", 1_764_376_800_123),
    ("2025-11-29T00:40:00.123Z", 1_764_376_800_123),
    ("2025-11-29t00:40:00.123z", 1_764_376_800_123),
    ("2025-11-29 00:40:00+00:00", 1_764_376_800_000),
    ("2025-11-28T20:40:00.123456789-04:00", 1_764_376_800_123),
    ("1970-01-01T00:00:00Z", 0),
])
def test_rfc3339_with_offset(text: str, ms: int) -> None:
    assert parse_ts(text) == ms


@pytest.mark.parametrize("value", ["2025-11-29T08:40:00", "2025-11-29", "2025-11-29T08:40+08:00",
                                   "2025-02-30T00:00:00Z", "1969-12-31T23:59:59Z", "", " 2025-11-29T00:40:00Z",
                                   True, False, 1.0, None, -1, 10**20, [], {}])
def test_refused_forms(value: object) -> None:
    assert parse_ts(value) is None


def test_integer_milliseconds() -> None:
    assert parse_ts(1_764_376_800_123) == 1_764_376_800_123


def test_future_limit_is_five_minutes() -> None:
    assert not too_far_ahead(1000 + MAX_FUTURE_MS, 1000)
    assert too_far_ahead(1001 + MAX_FUTURE_MS, 1000)


@settings(max_examples=500, deadline=None)
@given(recv_ms=st.integers(0, 2 * 253402300799999), max_age_ms=st.integers(0, 30 * 86_400_000),
       offset=st.integers(-40 * 86_400_000, 40 * 86_400_000) | st.sampled_from([-300_001, -300_000, 0, 1]))
def test_the_good_range_is_what_parse_ts_and_ts_problem_accept(recv_ms: int, max_age_ms: int, offset: int) -> None:
    """The parser's fast path for integer readings' timestamps takes exactly what the full check takes."""
    earliest, latest = good_ms_range(recv_ms, max_age_ms)
    for ts in (recv_ms - offset, earliest - 1, earliest, latest, latest + 1, recv_ms - max_age_ms, recv_ms + 300_000):
        accepted = parse_ts(ts) is not None and ts_problem(parse_ts(ts), recv_ms, max_age_ms) is None
        assert (earliest <= ts <= latest) is accepted, (ts, recv_ms, max_age_ms)
