"""Both timestamp forms of the data standard §3."""

from __future__ import annotations

import pytest

from ingest.timestamps import MAX_FUTURE_MS, parse_ts, too_far_ahead


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
