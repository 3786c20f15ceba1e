"""Benchmark: false alarms and missed alarms of the rule engine on a county under field conditions.

A county of ``--enterprises`` from ``device_sim.county`` (every §7 type), ``--days`` of field
noise and field conditions with their ground truth (``device_sim.field``), fed in arrival order
to ``stream_rules.engine.RuleEngine`` in process: ``process`` for each window of ``--batch-s`` (30 s)
of arrival time, then ``tick`` at the window's end; through silence (no record arrives) ``tick``
every ``--tick-s`` (5 s) of platform time as the worker does. A tick never runs ahead of records
that arrived before it. (Windows of 5 s give the same verdicts within a few alarms, 3× slower.) The alarms it opens
are judged against the truth (``device_sim.alarm_truth``). The first false alarms and misses go
to stderr; the last stdout line is one JSON object (``point_days``, ``false_alarms``,
``false_alarms_per_1000_point_days``, ``missed``, ``recall``, ``p50/p99_detection_delay_s``,
``per_rule``). Goal (issue 13): 30 enterprises × 30 days, 0 false alarms, recall 1.0, two seeds.

    .venv/bin/python bench/false_alarms.py --days 30 --enterprises 30 --seed 1

From a test: ``from bench.false_alarms import judge_county``; ``judge_county(1, 3, 1).summary()``.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

ROOT = str(Path(__file__).resolve().parents[1])
if ROOT not in sys.path:            # run as a script; imported from a test, the path is left alone
    sys.path.insert(0, ROOT)

import orjson  # noqa: E402

from device_sim.alarm_truth import OPENING, Result, judge  # noqa: E402
from device_sim.county import write_county  # noqa: E402
from device_sim.field import FieldCounty, field_county  # noqa: E402
from device_sim.field_feed import feed  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.settings import get_settings  # noqa: E402
from hazmon.wire import AlarmTransition  # noqa: E402
from stream_rules.engine import RuleEngine  # noqa: E402


def run_engine(county: FieldCounty, batch_s: float, tick_s: float) -> list[AlarmTransition]:
    """Every opening transition the engine emits for the county's feed; its clock is the platform's."""
    now = [county.start_ms]
    engine = RuleEngine(county.registry, clock=lambda: now[0], lateness_s=get_settings().rules_lateness_s)
    batch_ms, tick_ms = int(batch_s * 1000), int(tick_s * 1000)
    next_tick = county.start_ms + tick_ms
    out: list[AlarmTransition] = []
    for step in feed(county, batch_s):
        while next_tick <= step.now_ms - batch_ms:     # silence before this window: the deadman ticks on
            now[0] = next_tick
            out += engine.tick(next_tick)
            next_tick += tick_ms
        now[0] = step.now_ms
        out += engine.process(step.readings, step.events, step.statuses)
        if next_tick <= step.now_ms:
            out += engine.tick(step.now_ms)
            next_tick += tick_ms * ((step.now_ms - next_tick) // tick_ms + 1)
    end_ms = county.start_ms + int(county.duration_s * 1000)
    while next_tick <= end_ms:
        now[0] = next_tick
        out += engine.tick(next_tick)
        next_tick += tick_ms
    return [t for t in out if t["transition"] in OPENING]


def judge_county(days: float, enterprises: int, seed: int, batch_s: float = 30.0, tick_s: float = 5.0) -> Result:
    """Generate the county and its field conditions, run the engine, judge its alarms."""
    with tempfile.TemporaryDirectory(prefix="false-alarms-") as tmp:
        write_county(Path(tmp), enterprises, seed)
        registry = load_registry(Path(tmp))
    county = field_county(registry, days, seed)
    return judge(county.truths, run_engine(county, batch_s, tick_s), county.point_days(), county.conditions,
                 county.start_ms)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--days", type=float, default=7)
    parser.add_argument("--enterprises", type=int, default=30)
    parser.add_argument("--seed", type=int, default=1)
    parser.add_argument("--batch-s", type=float, default=30.0, help="arrival window of one process() call")
    parser.add_argument("--tick-s", type=float, default=5.0, help="deadman tick interval (rules_tick_s)")
    parser.add_argument("--show", type=int, default=15, help="false alarms and misses listed on stderr")
    args = parser.parse_args()
    started = time.perf_counter()
    result = judge_county(args.days, args.enterprises, args.seed, args.batch_s, args.tick_s)
    for line in result.explain(args.show):
        print(line, file=sys.stderr)
    summary = {"days": args.days, "enterprises": args.enterprises, "seed": args.seed, **result.summary(),
               "seconds": round(time.perf_counter() - started, 1)}
    print(orjson.dumps(summary).decode())


if __name__ == "__main__":
    main()
