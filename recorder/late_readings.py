"""Readings written too late for the continuous queries, and their aggregation (docs/timeseries.md).

The minute continuous query recomputes only the last ``MINUTE_RESAMPLE_FOR`` (2 minutes): a reading
that reaches InfluxDB more than a minute (a device's 断点续传 backlog, a Kafka replay after an outage) is in ``raw``
but in no aggregate. The InfluxDB writer notes, per enterprise, the span of such readings it wrote
(:meth:`LateSpans.note`, one look at each raw line's timestamp, in C while none is late), and runs the continuous queries'
aggregation over those spans, for that enterprise only, now and then (:func:`aggregate_late`).
"""

from __future__ import annotations

import re
from operator import itemgetter

import aiohttp

from hazmon.series import ENTERPRISE, READING, influxql_string, tag

from recorder.retention import BUCKET_MS, ReadingPolicy, run_aggregation

LATE_MS = 60_000          # older than this when written: the minute continuous query (FOR 2m) may not see it
_PREFIX = f"{READING},{ENTERPRISE}="
_START = len(_PREFIX)
_UNESCAPE = re.compile(r"\\(.)")
STAMP_DIGITS = 13         # a millisecond timestamp from 2001-09-09 to 2286-11-20
_LAST_DIGITS = itemgetter(slice(-STAMP_DIGITS, None))


def none_before(lines: list[str], cutoff: int, oldest: int) -> bool:
    """True when surely no line's timestamp is in [``oldest``, ``cutoff``), judged in one pass in C over each
    line's last STAMP_DIGITS characters. When ``oldest`` and ``cutoff`` have STAMP_DIGITS digits, so has every
    timestamp in between, and those characters are its digits, which compare as text as they do as numbers;
    a shorter timestamp is before ``oldest`` and a longer one after ``cutoff``, whatever their characters."""
    if not lines:
        return True
    cutoff_text = str(cutoff)
    if len(cutoff_text) != STAMP_DIGITS or len(str(oldest)) != STAMP_DIGITS:
        return False
    return min(map(_LAST_DIGITS, lines)) >= cutoff_text


class LateSpans:
    """Per enterprise, the oldest and newest timestamp of the late raw readings written since the last
    drain; readings older than ``keep_ms`` (the raw retention: InfluxDB dropped them) are not noted."""

    def __init__(self, keep_ms: int) -> None:
        self._keep_ms = keep_ms
        self._spans: dict[str, tuple[int, int]] = {}

    def note(self, raw_lines: list[str], now_ms: int) -> None:
        """Remember the late ones among ``raw_lines`` (reading lines just written to ``raw``, whose
        first tag is the enterprise: hazmon.series.reading_prefix)."""
        cutoff, oldest, spans = now_ms - LATE_MS, now_ms - self._keep_ms, self._spans
        if none_before(raw_lines, cutoff, oldest):
            return
        for line in raw_lines:
            ts = int(line[line.rfind(" ") + 1:])
            if ts >= cutoff or ts < oldest or not line.startswith(_PREFIX):
                continue
            end = line.find(",", _START)
            while line[end - 1] == "\\":                       # an escaped comma inside the tag value
                end = line.find(",", end + 1)
            key = line[_START:end]                              # as escaped in the line; unescaped by drain
            span = spans.get(key)
            spans[key] = (ts, ts) if span is None else (min(span[0], ts), max(span[1], ts))

    def drain(self) -> dict[str, tuple[int, int]]:
        """The spans noted since the last drain, by enterprise id."""
        spans, self._spans = self._spans, {}
        return {_UNESCAPE.sub(r"\1", key): span for key, span in spans.items()}

    def keep(self, spans: dict[str, tuple[int, int]]) -> None:
        """Put drained ``spans`` back (their aggregation failed), merged with those noted since."""
        for enterprise, (low, high) in spans.items():
            key = tag(enterprise)
            before = self._spans.get(key, (low, high))
            self._spans[key] = (min(before[0], low), max(before[1], high))


async def aggregate_late(session: aiohttp.ClientSession, url: str, database: str,
                         policies: tuple[ReadingPolicy, ...], spans: dict[str, tuple[int, int]]) -> None:
    """Each aggregate policy (finest first, so the hour reads the minutes just made) over each enterprise's
    span, widened to whole buckets."""
    for policy in policies:
        if policy.source is None or policy.bucket is None:
            continue
        bucket = BUCKET_MS[policy.bucket]
        for enterprise, (low, high) in sorted(spans.items()):
            await run_aggregation(session, url, database, policy, low // bucket * bucket, (high // bucket + 1) * bucket,
                                  f'"enterprise" = {influxql_string(enterprise)}')

