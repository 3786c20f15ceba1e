"""Times as duty officers read them (data standard §10): Beijing time, UTC+8 all year, to the second.
One home for every stage that writes a time into a text (rule messages, notifications, the desk)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

BEIJING = timezone(timedelta(hours=8))   # no daylight saving


def beijing(ts_ms: int) -> datetime:
    """``ts_ms`` (ms since the Unix epoch) as a Beijing-time datetime."""
    return datetime.fromtimestamp(ts_ms / 1000, UTC).astimezone(BEIJING)


def beijing_text(ts_ms: int) -> str:
    """``2025-11-29 08:40:00``: the moment as officers read it."""
    return beijing(ts_ms).strftime("%Y-%m-%d %H:%M:%S")
