"""The rule engine: a pure, synchronous core with no I/O.

``RuleEngine.process(readings, events, statuses)`` applies a batch of wire records to the state of
their enterprises and returns the alarm transitions it caused; ``tick(now_ms)`` is the
processing-time deadman that notices silent devices when no reading arrives to move reading time
on. State per enterprise can be saved and loaded as bytes (``dump``/``load``) for a Faust table.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable

import numpy as np

from hazmon.registry.loader import Registry
from hazmon.wire import AlarmTransition, DeviceStatus, Event, ReadingBatch
from stream_rules.alarms import AlarmBook
from stream_rules.catalog import Catalog, compile_registry
from stream_rules.classify import FAULT_REASONS, Classified, classify, interesting
from stream_rules.device_rules import apply_event, apply_status, judge_offline
from stream_rules.point_rules import PointRulesRunner
from stream_rules.rollup import judge_ponds
from stream_rules.state import EnterpriseState


def wall_ms() -> int:
    return int(time.time() * 1000)


class RuleEngine:
    """Rule state of many enterprises; ``process`` and ``tick`` return the transitions they cause."""

    def __init__(self, registry: Registry, clock: Callable[[], int] = wall_ms, lateness_s: float = 60.0) -> None:
        self.lateness_ms = lateness_s * 1000.0  # watermark = newest reading time − this (bounded out-of-orderness)
        self.catalogs: dict[str, Catalog] = compile_registry(registry)
        self.states: dict[str, EnterpriseState] = {}
        self.clock = clock
        self.counters: Counter[str] = Counter()

    def set_registry(self, registry: Registry) -> None:
        """Take a changed registry (new limits, new points) into use; open alarms are kept."""
        self.catalogs = compile_registry(registry)
        for enterprise, state in self.states.items():
            if enterprise in self.catalogs:
                state.align(self.catalogs[enterprise])

    def state(self, enterprise: str) -> EnterpriseState:
        state = self.states.get(enterprise)
        if state is None:
            state = self.states[enterprise] = EnterpriseState.fresh(self.catalogs[enterprise])
        return state

    def load(self, enterprise: str, raw: bytes) -> None:
        state = EnterpriseState.from_bytes(raw)
        if enterprise in self.catalogs:
            state.align(self.catalogs[enterprise])
        self.states[enterprise] = state

    def dump(self, enterprise: str) -> bytes:
        return self.state(enterprise).to_bytes()

    def process(self, readings: Iterable[ReadingBatch] = (), events: Iterable[Event] = (),
                statuses: Iterable[DeviceStatus] = ()) -> list[AlarmTransition]:
        """Apply one batch; events first, so a fire alarm never waits behind readings."""
        out: list[AlarmTransition] = []
        for event in events:
            if self._known(event["enterprise"]) and not apply_event(self.catalogs[event["enterprise"]],
                                                                    self._book(event["enterprise"], out), event):
                self.counters["unknown_event_point"] += 1
        touched: dict[str, list[ReadingBatch]] = {}
        for record in readings:
            if self._known(record["enterprise"]):
                touched.setdefault(record["enterprise"], []).append(record)
        for status in statuses:
            if self._known(status["enterprise"]):
                apply_status(self.state(status["enterprise"]), status)
                touched.setdefault(status["enterprise"], [])
        for enterprise, records in touched.items():
            book = self._book(enterprise, out)
            state, catalog = self.state(enterprise), self.catalogs[enterprise]
            if records:
                self._readings(catalog, state, book, records)
            if np.isfinite(state.watermark):
                judge_offline(catalog, state, book, state.watermark - self.lateness_ms, state.first_seen)
                judge_ponds(catalog, book, int(state.watermark))
        return out

    def tick(self, now_ms: int, enterprises: Iterable[str] | None = None) -> list[AlarmTransition]:
        """Deadman: reading time of a silent enterprise advances with the processing time since its last record.

        ``enterprises`` limits the judgement to those (a worker's partition); default all with state.
        """
        out: list[AlarmTransition] = []
        judged = self.states.keys() if enterprises is None else [e for e in enterprises if e in self.states]
        for enterprise in judged:
            state = self.states[enterprise]
            if enterprise in self.catalogs and np.isfinite(state.watermark) and np.isfinite(state.arrival_ms):
                clock = state.watermark - self.lateness_ms + max(0.0, now_ms - state.arrival_ms)
                judge_offline(self.catalogs[enterprise], state, self._book(enterprise, out), clock, state.first_seen)
        return out

    def _known(self, enterprise: str) -> bool:
        if enterprise in self.catalogs:
            return True
        self.counters["unknown_enterprise"] += 1
        return False

    def _book(self, enterprise: str, out: list[AlarmTransition]) -> AlarmBook:
        return AlarmBook(enterprise, self.state(enterprise).alarms, out.append, self.clock)

    def _readings(self, catalog: Catalog, state: EnterpriseState, book: AlarmBook, records: list[ReadingBatch]) -> None:
        points = [p for r in records for p in r["points"]]
        ts = np.concatenate([np.asarray(r["ts"], dtype=np.float64) for r in records])
        values = np.concatenate([np.asarray(r["values"], dtype=np.float64) for r in records])
        quality = np.concatenate([np.asarray(r["q"], dtype=np.int8) for r in records])
        batch = classify(catalog, state, points, ts, values, quality)
        self.counters["late"] += batch.late
        self.counters["unknown_point"] += batch.unknown
        self.counters["readings"] += len(batch.ts)
        if not len(batch.ts):
            return
        if not np.isfinite(state.first_seen):
            state.first_seen = float(batch.ts.min())
        self._run_rules(catalog, state, book, batch)
        ends = np.ones(len(batch.point), dtype=bool)
        ends[:-1] = batch.point[1:] != batch.point[:-1]
        state.last_ts[batch.point[ends]] = batch.ts[ends]
        state.last_value[batch.point[ends]] = batch.value[ends]
        state.watermark = max(state.watermark, float(batch.ts.max()))
        state.arrival_ms = max(state.arrival_ms, float(max(r["recv_ms"] for r in records)))

    def _run_rules(self, catalog: Catalog, state: EnterpriseState, book: AlarmBook, batch: Classified) -> None:
        busy = np.zeros(len(catalog.ids), dtype=bool)
        for key in state.tracks:
            busy[catalog.index[key.split("|", 1)[0]]] = True
        for alarm in state.alarms.values():
            index = catalog.index.get(alarm.point)
            if index is not None:
                busy[index] = True
        picked = np.flatnonzero(interesting(batch, catalog, busy))
        if not len(picked):
            return
        picked = picked[np.lexsort((batch.point[picked], batch.ts[picked]))]  # reading-time order across points
        runner = PointRulesRunner(catalog, state, book)
        previous: dict[int, float] = {}
        changed_at: float | None = None   # a reading time at which a point's alarm changed: its pond is judged after it
        for p, t, v, f, up, dn, up_held, dn_held in zip(
                batch.point[picked].tolist(), batch.ts[picked].tolist(), batch.value[picked].tolist(),
                batch.fault[picked].tolist(), batch.above[picked].tolist(), batch.below[picked].tolist(),
                batch.above_held[picked].tolist(), batch.below_held[picked].tolist()):
            if changed_at is not None and t != changed_at:   # every reading of that time is in: judge the ponds then
                judge_ponds(catalog, book, int(changed_at))
                changed_at = None
            before = previous.get(p, float(state.last_ts[p]))
            sent = book.sent
            runner.reading(p, t, v, FAULT_REASONS[f], {"above": (up, up_held), "below": (dn, dn_held)}, before)
            previous[p] = t
            if catalog.ponds and book.sent != sent:
                changed_at = t
        if changed_at is not None:
            judge_ponds(catalog, book, int(changed_at))
