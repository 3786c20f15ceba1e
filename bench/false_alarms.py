"""Benchmark: false alarms and missed alarms of the rule engine on a county under field conditions.

A county of ``--enterprises`` from ``device_sim.county`` (every §7 type), ``--days`` of field
noise and field conditions with their ground truth (``device_sim.field``), fed in arrival order
to ``stream_rules.engine.RuleEngine`` in process (``testbed.false_alarms``): ``process`` for each
window of ``--batch-s`` (30 s) of arrival time, then ``tick`` at the window's end; through silence (no record arrives) ``tick``
every ``--tick-s`` (5 s) of platform time as the worker does. A tick never runs ahead of records
that arrived before it. (Windows of 5 s give the same verdicts within a few alarms, 3× slower.) The alarms it opens
are judged against the truth (``device_sim.alarm_truth``). The first false alarms and misses go
to stderr; the last stdout line is one JSON object (``point_days``, ``false_alarms``,
``false_alarms_per_1000_point_days``, ``missed``, ``recall``, ``p50/p99_detection_delay_s``,
``per_rule``). Goal (issue 13): 30 enterprises × 30 days, 0 false alarms, recall 1.0, two seeds.

    .venv/bin/python bench/false_alarms.py --days 30 --enterprises 30 --seed 1
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

import orjson  # noqa: E402

from testbed.false_alarms import judge_county  # noqa: E402


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
