"""The recorder's fast paths write exactly what the plain per-reading code writes (issue #18: the reading
lines from one ``orjson.dumps`` of a batch's values, the late-reading check and the policy grouping in C)."""

from __future__ import annotations

import math
import random

import orjson
from aiokafka import ConsumerRecord

from hazmon import series
from hazmon.registry import Registry, load_registry
from hazmon.settings import PACKAGE_DIR

from recorder.late_readings import LATE_MS, LateSpans
from recorder.topic_writer import ReadingLines, value_texts

DAY_MS = 86_400_000
NOW = 1_800_000_000_000
EDGE_VALUES = [0.0, -0.0, 1.0, 20.0, 0.1 + 0.2, 1e-4, 9.99e-5, 1e-5, 1.5e-7, 5e-324, 123.456789, 1e15, 9999999999999998.0,
               1e16, 1.2345678901234568e17, 1e22, 1.7976931348623157e308, -2.5e-6, math.nan, math.inf, -math.inf]


def plain_lines(registry: Registry, batch: dict) -> tuple[list[str], int]:
    """The reading lines of a record as the recorder wrote them before issue #18 (a look-up and repr per
    reading; a record it cannot read is skipped whole), and its unregistered points."""
    lines, unknown = [], 0
    try:
        for point, ts, value in zip(batch["points"], batch["ts"], batch["values"]):
            entry = registry.point(batch["enterprise"], point)
            if entry is None:
                unknown += 1
                continue
            prefix = series.reading_prefix(batch["enterprise"], entry.site.id, point, entry.point.type.value)
            lines.append(f"{prefix}{float(value)!r} {int(ts)}")
    except (TypeError, ValueError):
        return [], unknown
    return lines, unknown


def record(batch: dict, offset: int) -> ConsumerRecord:
    value = orjson.dumps(batch)
    return ConsumerRecord("hazmon.readings.v1", 0, offset, 0, 0, None, value, None, 0, len(value), [])


def test_reading_lines_are_the_plain_codes_for_every_kind_of_value() -> None:
    registry = load_registry(PACKAGE_DIR / "sample_registry")
    points = sorted(registry.points)
    rng = random.Random(18)
    batches = []
    for n in range(3000):
        chosen = [rng.choice(points) for _ in range(rng.randint(0, 12))]
        enterprise = chosen[0][0] if chosen else points[0][0]
        names = [p for e, p in chosen if e == enterprise]
        if n % 7 == 0:
            names.append("NOT_REGISTERED")
        values: list = [rng.choice([rng.choice(EDGE_VALUES), round(rng.uniform(-500, 500), rng.randint(0, 9)),
                                    rng.uniform(-1, 1) * 10.0 ** rng.uniform(-8, 18)]) for _ in names]
        stamps: list = [NOW + rng.randint(-10**6, 10**6) for _ in names]
        if n % 11 == 0 and names:
            values[0] = rng.choice([20, True, "20.5"])          # not a float: the plain loop converts it
        if n % 13 == 0 and names:
            stamps[0] = float(stamps[0])
        batches.append({"v": 1, "enterprise": enterprise, "device": "D", "recv_ms": NOW, "points": names,
                        "ts": stamps, "values": values, "q": [0] * len(names), "ts_src": [0] * len(names)})
    lines = ReadingLines(registry)
    plain = [plain_lines(registry, orjson.loads(orjson.dumps(batch))) for batch in batches]   # NaN crosses as null
    assert lines([record(batch, n) for n, batch in enumerate(batches)]) == [line for batch, _ in plain for line in batch]
    assert lines.unknown == sum(unknown for _, unknown in plain)


def test_value_texts_are_repr_or_none() -> None:
    for value in EDGE_VALUES:
        texts = value_texts([value])
        assert texts is None or texts == [repr(value)], value
    assert value_texts([1.5, 2]) is None and value_texts([]) is None
    assert value_texts([1.5, 22.25]) == ["1.5", "22.25"]


def late_spans_line_by_line(lines: list[str], now_ms: int, keep_ms: int) -> dict[str, tuple[int, int]]:
    """LateSpans.note's rule, a line at a time."""
    spans: dict[str, tuple[int, int]] = {}
    for line in lines:
        ts = int(line.rsplit(" ", 1)[1])
        if now_ms - keep_ms <= ts < now_ms - LATE_MS:
            enterprise = line.split(",")[1].split("=")[1]
            low, high = spans.get(enterprise, (ts, ts))
            spans[enterprise] = (min(low, ts), max(high, ts))
    return spans


def test_late_spans_are_noted_as_line_by_line() -> None:
    rng = random.Random(6)
    keep_ms = 90 * DAY_MS
    prefix = "reading,enterprise=E{},point=P,site=S,type=pressure value={} "
    for round_no in range(300):
        offsets = [rng.choice([0, 5_000, LATE_MS - 1, LATE_MS, LATE_MS + 1, 3_600_000, keep_ms, keep_ms + 1,
                               -10**7, NOW - 10**11, NOW - 10**3, NOW]) for _ in range(rng.randint(0, 30))]
        if round_no % 3:   # mostly readings in time, as in a running pipeline
            offsets = [o if o < LATE_MS else rng.randint(0, LATE_MS - 1) for o in offsets]
        lines = [prefix.format(rng.randint(1, 3), rng.choice(["1.0", "123.5", "9"])) + str(NOW - o) for o in offsets]
        spans = LateSpans(keep_ms)
        spans.note(lines, NOW)
        assert spans.drain() == late_spans_line_by_line(lines, NOW, keep_ms), lines


def test_lines_by_policy_are_grouped_as_line_by_line() -> None:
    reading = "reading,enterprise=E,point=P,site=S,type=pressure value=1.0 1"
    alarm = "alarm,enterprise=E,point=P state=\"active\" 1"
    for lines in ([], [reading] * 3, [alarm], [reading, alarm, reading], [alarm, reading], ["readings,x=1 a=1 1"]):
        expected: dict[str, list[str]] = {}
        for line in lines:
            expected.setdefault(series.policy_of(line), []).append(line)
        assert series.by_policy(lines) == expected
