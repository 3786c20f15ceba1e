"""Timestamps of the data standard §3: integer milliseconds, or RFC 3339 with an offset; §6: at most
5 minutes ahead of the platform, and not older than a set age (7 days by default)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta, UTC

MAX_FUTURE_MS = 5 * 60 * 1000  # §6: more than 5 minutes ahead of the platform is refused
_RFC3339 = re.compile(
    r"^(\d{4}-\d{2}-\d{2})[Tt ](\d{2}:\d{2}:\d{2})(?:\.(\d{1,9}))?([Zz]|[+-]\d{2}:\d{2})$")
_MAX_MS = 253402300799999  # 9999-12-31T23:59:59.999Z
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_ONE_MS = timedelta(milliseconds=1)


def parse_ts(value: object) -> int | None:
    """``value`` as integer milliseconds since the epoch, or None when it is not a valid §3 timestamp."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value if 0 <= value <= _MAX_MS else None
    if isinstance(value, str):
        return _parse_rfc3339(value)
    return None


def _parse_rfc3339(value: str) -> int | None:
    match = _RFC3339.match(value)
    if match is None:
        return None
    date, clock, fraction, offset = match.groups()
    micro = (fraction or "").ljust(6, "0")[:6]
    zone = "+00:00" if offset in ("Z", "z") else offset
    try:
        moment = datetime.fromisoformat(f"{date}T{clock}.{micro}{zone}")
    except ValueError:
        return None
    ms = (moment - _EPOCH) // _ONE_MS
    return ms if 0 <= ms <= _MAX_MS else None


def good_ms_range(recv_ms: int, max_age_ms: int) -> tuple[int, int]:
    """(earliest, latest): an integer timestamp in this range is one ``parse_ts`` takes and
    ``ts_problem`` finds nothing wrong with, checked with two comparisons per reading."""
    return max(0, recv_ms - max_age_ms), min(_MAX_MS, recv_ms + MAX_FUTURE_MS)


def too_far_ahead(ts_ms: int, recv_ms: int) -> bool:
    return ts_ms - recv_ms > MAX_FUTURE_MS


def ts_problem(ts_ms: int | None, recv_ms: int, max_age_ms: int) -> str | None:
    """None for a good timestamp, else the text key of what is wrong with it (§6)."""
    if ts_ms is None:
        return "ts_unparseable"
    if too_far_ahead(ts_ms, recv_ms):
        return "ts_future"
    if recv_ms - ts_ms > max_age_ms:
        return "ts_past"
    return None
