"""Benchmark: what keeping alerting's records for other stages in the ledger costs the alarm log's write.

For ``--runs`` runs on a fresh ledger: one write of a batch of ``--alarms`` confirmed alarms (the
alarms, their lifecycle entries, offsets) as before; one write of another such batch with the alarm
change each makes staged as an ``unsent`` record (``Ledger.stage_unsent``, what ``ChangeTopic`` stages);
one write deleting those records once acknowledged (``Ledger.stage_sent``). Last stdout line: JSON
(milliseconds, min / median / max).

    .venv/bin/python bench/ledger_unsent.py --alarms 5000 --runs 5
"""

from __future__ import annotations

import argparse
import asyncio
import statistics
import sys
import tempfile
import time
from pathlib import Path

import orjson

sys.path[0] = str(Path(__file__).resolve().parents[1])

from alerting.book import AlarmBook  # noqa: E402
from alerting.ledger import Ledger, event_row  # noqa: E402
from alerting.model import AlarmEvent  # noqa: E402
from alerting.text import Texts  # noqa: E402
from hazmon import wire  # noqa: E402
from testbed.alerting import T0, transition  # noqa: E402


def batch(prefix: str, count: int) -> tuple[AlarmBook, list[AlarmEvent]]:
    book = AlarmBook(Texts("zh"))
    events = [book.apply_transition(transition(f"{prefix}-{n}", "confirmed", "TK01_LT", at=T0 + n)) for n in range(count)]
    return book, [event for event in events if event is not None]


def change_record(event: AlarmEvent) -> bytes:
    return wire.encode({"v": wire.WIRE_VERSION, "version": event.alarm.revision, "change": event.kind, "ts": event.ts,
                        "by": event.by, "alarm": event.alarm.to_json(None)})


async def run_once(directory: Path, count: int) -> tuple[float, float, float]:
    ledger = Ledger(directory / "ledger.sqlite3")
    await ledger.open()
    try:
        book, events = batch("plain", count)
        alarms, _ = book.take_changes()
        started = time.perf_counter()
        await ledger.write(alarms, [event_row(e) for e in events], [], {("transitions", 0): count})
        plain = time.perf_counter() - started

        book, events = batch("kept", count)
        alarms, _ = book.take_changes()
        for number, event in enumerate(events):
            ledger.stage_unsent("changes", "bench", number, event.alarm.id.encode(), change_record(event))
        started = time.perf_counter()
        await ledger.write(alarms, [event_row(e) for e in events], [], {("transitions", 0): 2 * count})
        kept = time.perf_counter() - started

        ledger.stage_sent("changes", [("bench", number) for number in range(len(events))])
        started = time.perf_counter()
        await ledger.write([], [], [], {})
        deleted = time.perf_counter() - started
    finally:
        await ledger.close()
    return plain * 1000, kept * 1000, deleted * 1000


def spread(values: list[float]) -> list[float]:
    return [round(min(values), 1), round(statistics.median(values), 1), round(max(values), 1)]


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=5000)
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    results = []
    for _ in range(args.runs):
        with tempfile.TemporaryDirectory() as directory:
            results.append(await run_once(Path(directory), args.alarms))
        print(f"write of {args.alarms} alarms {results[-1][0]:.0f} ms; with their change records "
              f"{results[-1][1]:.0f} ms; deleting those {results[-1][2]:.0f} ms", flush=True)
    plain, kept, deleted = (list(column) for column in zip(*results))
    print(orjson.dumps({"alarms": args.alarms, "runs": args.runs, "write_ms": spread(plain),
                        "write_with_unsent_ms": spread(kept), "delete_unsent_ms": spread(deleted)}).decode())


if __name__ == "__main__":
    asyncio.run(main())
