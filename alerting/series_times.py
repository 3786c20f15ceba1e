"""Distinct InfluxDB timestamps for the alarm measurement's points.

InfluxDB 1.x keys a point by its series (measurement and tags) and its time: a second point with the
same key overwrites the first. Two alarm changes can share both, such as two recorded fire events of
one point in one rule-engine batch (same emitted millisecond, same tags, two alarm ids), and the
second would erase the first from the history. Each change claims its time here and moves to the next
free millisecond of its series when that one is taken. Claims are made in the alarm log's order, so
a replay of the log claims the same times again and rewrites the same points.
"""

from __future__ import annotations

KEEP_MS = 600_000   # a claim older than this (behind the newest) is forgotten: changes arrive in about time order


class SeriesTimes:
    """The millisecond timestamps claimed per series in the last ``keep_ms``."""

    def __init__(self, keep_ms: int = KEEP_MS) -> None:
        self._keep_ms = keep_ms
        self._claimed: dict[tuple[str, int], None] = {}   # insertion order ≈ time order, for forgetting

    def claim(self, series: str, ts: int) -> int:
        """``ts``, or the first later millisecond not yet claimed by ``series``; claimed from now on."""
        while (series, ts) in self._claimed:
            ts += 1
        self._claimed[(series, ts)] = None
        self._forget(ts - self._keep_ms)
        return ts

    def _forget(self, before_ms: int) -> None:
        while self._claimed:
            oldest = next(iter(self._claimed))
            if oldest[1] >= before_ms:
                return
            del self._claimed[oldest]
