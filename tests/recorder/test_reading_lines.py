"""The recorder's fast paths write exactly what the plain per-reading code writes (issue #18: the reading
lines of a whole fetch in one pass, the late-reading check and the policy grouping in C)."""

from __future__ import annotations

import math
import random

import orjson
from aiokafka import ConsumerRecord

from hazmon import series
from hazmon.registry import Registry, load_registry
from hazmon.settings import PACKAGE_DIR

from recorder.late_readings import LATE_MS, LateSpans
from recorder.topic_writer import ReadingLines

DAY_MS = 86_400_000
NOW = 1_800_000_000_000
EDGE_VALUES = [0.0, -0.0, 1.0, 20.0, 0.1 + 0.2, 1e-4, 9.99e-5, 1e-5, 1.5e-7, 5e-324, 123.456789, 1e15, 9999999999999998.0,
               1e16, 1.2345678901234568e17, 1e22, 1.7976931348623157e308, -2.5e-6]


def plain_lines(registry: Registry, batch: dict) -> tuple[list[str], int]:
    """The reading lines of a record as the recorder wrote them before issue #18 (a look-up and repr per
    reading; a record it cannot read is skipped whole), and its unregistered points."""
    lines, unknown = [], 0
    if not len(batch["points"]) == len(batch["ts"]) == len(batch["values"]):
        return [], 0
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


def test_reading_lines_are_the_plain_codes_for_every_kind_of_record() -> None:
    """Fetches of 1-30 records, most of them clean (one pass), the rest with an odd record (record by record)."""
    registry = load_registry(PACKAGE_DIR / "sample_registry")
    points = sorted(registry.points)
    rng = random.Random(18)
    batches = []
    for _ in range(3000):
        chosen = [rng.choice(points) for _ in range(rng.randint(0, 12))]
        enterprise = chosen[0][0] if chosen else points[0][0]
        names = [p for e, p in chosen if e == enterprise]
        values: list = [rng.choice([rng.choice(EDGE_VALUES), round(rng.uniform(-500, 500), rng.randint(0, 9)),
                                    rng.uniform(-1, 1) * 10.0 ** rng.uniform(-8, 18)]) for _ in names]
        stamps: list = [NOW + rng.randint(-10**6, 10**6) for _ in names]
        odd = rng.randrange(300)
        if odd == 0:
            names.append("NOT_REGISTERED")
            values.append(1.0)
            stamps.append(NOW)
        elif odd == 1 and names:
            values[0] = rng.choice([20, True, "20.5", math.nan, math.inf])   # NaN crosses the wire as null
        elif odd == 2 and names:
            stamps[0] = float(stamps[0])
        elif odd == 3:
            stamps.append(NOW)
        batches.append({"v": 1, "enterprise": enterprise, "device": "D", "recv_ms": NOW, "points": names,
                        "ts": stamps, "values": values, "q": [0] * len(names), "ts_src": [0] * len(names)})
    lines = ReadingLines(registry)
    one_at_a_time = lines._batch_lines
    records_one_at_a_time = 0

    def counted(batch: dict) -> list[str]:
        nonlocal records_one_at_a_time
        records_one_at_a_time += 1
        return one_at_a_time(batch)

    lines._batch_lines = counted   # type: ignore[method-assign]
    start = 0
    while start < len(batches):
        fetch = batches[start:start + rng.randint(1, 30)]
        plain = [plain_lines(registry, orjson.loads(orjson.dumps(batch))) for batch in fetch]
        unknown = lines.unknown
        assert lines([record(batch, n) for n, batch in enumerate(fetch)]) == [line for batch, _ in plain for line in batch]
        assert lines.unknown - unknown == sum(unknown for _, unknown in plain)
        start += len(fetch)
    assert 0 < records_one_at_a_time < len(batches) / 2   # both ways taken, the one pass mostly


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
