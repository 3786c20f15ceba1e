"""The rule engine: a pure, synchronous core with no I/O.

``RuleEngine.process(readings, events, statuses)`` applies a batch of wire records to the state of
their enterprises and returns the alarm transitions it caused; ``tick(now_ms)`` is the
processing-time deadman: it judges the silence of enterprises that sent nothing, and the platform's
own data outage. State per enterprise can be saved and loaded as bytes (``dump``/``load``) for a
Faust table.

Two clocks (docs/stream_rules.md, "How time is judged"): limits, trends and every window run on
reading time (device clocks, per point); silence runs on the platform's **receiving clock**, the
newest ``recv_ms`` of any record this engine has seen. When nothing arrives from anyone for longer
than ``outage_ms`` the receiving clock stops, so no device turns offline; the tick raises one
platform alarm instead, and when data comes back every device's silence is measured from then.
"""

from __future__ import annotations

import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass

import numpy as np

from hazmon.registry.loader import Registry
from hazmon.wire import AlarmTransition, DeviceStatus, Event, ReadingBatch
from stream_rules.alarms import AlarmBook
from stream_rules.alarms import Change, Subject
from stream_rules.catalog import OFFLINE_PERIODS, PLATFORM, Catalog, compile_registry
from stream_rules.classify import FAULT_REASONS, Classified, Layout, classify, interesting
from stream_rules.device_rules import apply_event, apply_status, clear_status_by_data, judge_silence
from stream_rules.point_rules import PointRulesRunner
from stream_rules.rollup import judge_ponds
from stream_rules.state import EnterpriseState


PLATFORM_SEVERITY = 2
PLATFORM_SUBJECT = Subject("", "", "", "hazmon 监测预警平台", "the hazmon platform")


@dataclass(frozen=True, slots=True)
class Rows:
    """One enterprise's rows ``start:end`` of the batch's columns for the per-reading rules: (point,
    time, value, fault, above, below, above held, below held, the point's reading time before the batch)."""

    columns: tuple[list, ...]
    start: int
    end: int


def wall_ms() -> int:
    return int(time.time() * 1000)


class RuleEngine:
    """Rule state of many enterprises; ``process`` and ``tick`` return the transitions they cause."""

    def __init__(self, registry: Registry, clock: Callable[[], int] = wall_ms, lateness_s: float = 60.0,
                 outage_s: float = 120.0) -> None:
        """``lateness_s``: how far one partition's records may lag another's (silence waits this much
        longer); ``outage_s``: nothing received from anyone for this long (at least 3 × the shortest
        period of any point) is the platform's data outage, not silence of the devices."""
        self.lateness_ms = lateness_s * 1000.0
        self.min_outage_ms = outage_s * 1000.0
        self.clock = clock
        self.counters: Counter[str] = Counter()
        self.states: dict[str, EnterpriseState] = {}
        self.receiving_ms = -np.inf   # the receiving clock: newest recv_ms seen
        self.resumed_ms = -np.inf     # when data came back after the last outage this engine saw
        self.set_registry(registry)

    def set_registry(self, registry: Registry) -> None:
        """Take a changed registry (new limits, new points) into use; open alarms are kept."""
        self.catalogs: dict[str, Catalog] = compile_registry(registry)
        self.layout = Layout(self.catalogs)
        self.gap_ms = {enterprise: (OFFLINE_PERIODS * c.period_ms).tolist() for enterprise, c in self.catalogs.items()}
        shortest = min((float(c.period_ms[c.reports].min()) for c in self.catalogs.values() if c.reports.any()),
                       default=0.0)
        self.outage_ms = max(self.min_outage_ms, OFFLINE_PERIODS * shortest)
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
        self.receiving_ms = max(self.receiving_ms, state.arrival_ms)

    def dump(self, enterprise: str) -> bytes:
        return self.state(enterprise).to_bytes()

    def process(self, readings: Iterable[ReadingBatch] = (), events: Iterable[Event] = (),
                statuses: Iterable[DeviceStatus] = ()) -> list[AlarmTransition]:
        """Apply one batch; events first, so a fire alarm never waits behind readings."""
        readings, events, statuses = list(readings), list(events), list(statuses)
        self._received(max((r["recv_ms"] for group in (readings, events, statuses) for r in group), default=-np.inf))
        out: list[AlarmTransition] = []
        for event in events:
            if self._known(event["enterprise"]) and not apply_event(self.catalogs[event["enterprise"]],
                                                                    self._book(event["enterprise"], out), event):
                self.counters["unknown_event_point"] += 1
        touched: dict[str, list[ReadingBatch]] = {}
        for record in readings:
            if self._known(record["enterprise"]):
                touched.setdefault(record["enterprise"], []).append(record)
        status_received: dict[str, float] = {}   # enterprise → newest recv_ms of its statuses in this call
        for status in statuses:
            if self._known(status["enterprise"]):
                apply_status(self.catalogs[status["enterprise"]], self.state(status["enterprise"]), status)
                touched.setdefault(status["enterprise"], [])
                status_received[status["enterprise"]] = max(status_received.get(status["enterprise"], -np.inf),
                                                            status["recv_ms"])
        readings_of = {enterprise: records for enterprise, records in touched.items() if records}
        ready, batch = self._readings(readings_of) if readings_of else ({}, None)
        for enterprise in touched:
            book = self._book(enterprise, out)
            state, catalog = self.state(enterprise), self.catalogs[enterprise]
            if enterprise in ready:
                self._run_rules(catalog, state, book, ready[enterprise])
            # a status is judged when it was received, also for an enterprise that has sent no reading yet
            self._judge_silence(catalog, state, book, max(state.arrival_ms, status_received.get(enterprise, -np.inf)))
            if np.isfinite(state.watermark):
                judge_ponds(catalog, book, int(state.watermark))
        if batch is not None:
            self._keep_newest(readings_of, batch)
        return out

    def tick(self, now_ms: int, enterprises: Iterable[str] | None = None) -> list[AlarmTransition]:
        """Deadman at processing time ``now_ms``: silence of enterprises that sent nothing (judged on the
        receiving clock), and the platform alarm when nothing arrived from anyone for ``outage_ms``.

        ``enterprises`` limits the judgement to those (a worker's partition); default all with state, and the platform.
        """
        out: list[AlarmTransition] = []
        judged = [*self.states.keys(), PLATFORM] if enterprises is None else [e for e in enterprises if e in self.catalogs]
        for enterprise in dict.fromkeys(judged):
            if enterprise == PLATFORM:
                self._judge_platform(now_ms, out)
                continue
            state = self.states.get(enterprise)
            if state is not None and enterprise in self.catalogs and np.isfinite(state.arrival_ms):
                self._judge_silence(self.catalogs[enterprise], state, self._book(enterprise, out), self.receiving_ms)
        return out

    def _received(self, recv_ms: float) -> None:
        """Move the receiving clock; data after a gap longer than ``outage_ms`` ends an outage."""
        if recv_ms - self.receiving_ms > self.outage_ms and np.isfinite(self.receiving_ms):
            self.resumed_ms = recv_ms
        self.receiving_ms = max(self.receiving_ms, recv_ms)

    def _judge_silence(self, catalog: Catalog, state: EnterpriseState, book: AlarmBook, receiving_ms: float) -> None:
        """Silence as of ``receiving_ms``: on a batch, the enterprise's own newest arrival (its records are
        in order in one partition, while another partition's may be hours ahead in a replayed backlog);
        on a tick, the engine's receiving clock (an enterprise that sent nothing has no clock of its own).
        The clock an enterprise is judged at never goes back, so a batch never undoes what a tick found."""
        state.judged_ms = max(state.judged_ms, receiving_ms)
        receiving_ms = state.judged_ms
        if not np.isfinite(receiving_ms):
            return                      # nothing received from or about the enterprise yet: no clock to judge at
        if not np.isfinite(state.silence_from):
            state.silence_from = state.arrival_ms if np.isfinite(state.arrival_ms) else self.receiving_ms
        state.silence_from = max(state.silence_from, self.resumed_ms)
        if np.isfinite(state.silence_from):
            judge_silence(catalog, state, book, receiving_ms - self.lateness_ms)

    def _judge_platform(self, now_ms: int, out: list[AlarmTransition]) -> None:
        """§8: one platform alarm (平台数据中断) while nothing arrives from anyone; never the devices' offline."""
        if not np.isfinite(self.receiving_ms):
            return
        book = self._book(PLATFORM, out)
        silent_ms = now_ms - self.receiving_ms
        change = Change("platform", "platform", PLATFORM_SUBJECT, None, PLATFORM_SEVERITY, now_ms, None, None,
                        "no_data", {"silent_s": round(silent_ms / 1000.0, 1)})
        if silent_ms > self.outage_ms:
            book.apply(change, int(self.receiving_ms), "raised")
        elif book.is_open("platform"):
            book.clear(change)

    def _known(self, enterprise: str) -> bool:
        if enterprise in self.catalogs:
            return True
        self.counters["unknown_enterprise"] += 1
        return False

    def _book(self, enterprise: str, out: list[AlarmTransition]) -> AlarmBook:
        return AlarmBook(enterprise, self.state(enterprise).alarms, out.append, self.clock)

    def _readings(self, readings_of: dict[str, list[ReadingBatch]]) -> tuple[dict[str, Rows], Classified]:
        """Arrivals and the numpy pass (``classify``) over every enterprise's records at once; per
        enterprise, the rows its per-reading rules must see, in reading-time order.

        The enterprises' per-point arrays are concatenated in the order of ``readings_of``: a
        reading's ``slot`` is its point's place there."""
        layout = self.layout
        states = [self.state(enterprise) for enterprise in readings_of]
        starts = np.cumsum([0, *(len(state.last_ts) for state in states)])
        places: list[int] = []
        ts: list[float] = []
        values: list[float] = []
        quality: list[int] = []
        lengths: list[int] = []
        shifts: list[int] = []
        received: list[float] = []
        for (enterprise, records), state, start in zip(readings_of.items(), states, starts.tolist()):
            shift = start - layout.offset[enterprise]
            for record in records:
                recv = float(record["recv_ms"])
                places += layout.places(enterprise, record["points"])
                ts += record["ts"]
                values += record["values"]
                quality += record["q"]
                lengths.append(len(record["points"]))
                shifts.append(shift)
                received.append(recv)
                state.arrival_ms = max(state.arrival_ms, recv)
                if record["device"] in state.status_offline and record["ts"]:
                    clear_status_by_data(state, record["device"], float(max(record["ts"])))
        place = np.array(places, dtype=np.int64)
        known = place >= 0
        unknown = int(len(place) - known.sum())
        place = place[known]
        slot = place + np.repeat(np.array(shifts, dtype=np.int64), lengths)[known]
        arrival = np.concatenate([state.last_arrival for state in states])   # what the platform received, and when
        np.maximum.at(arrival, slot, np.repeat(np.array(received, dtype=np.float64), lengths)[known])
        newest = np.concatenate([state.last_ts for state in states])
        for state, start, end in zip(states, starts[:-1].tolist(), starts[1:].tolist()):
            state.last_arrival[:] = arrival[start:end]
        batch = classify(layout, place, slot, newest[slot], np.array(ts, dtype=np.float64)[known],
                         np.array(values, dtype=np.float64)[known], np.array(quality, dtype=np.int8)[known])
        self.counters["late"] += batch.late
        self.counters["unknown_point"] += unknown
        self.counters["readings"] += len(batch.ts)
        if not len(batch.ts):
            return {}, batch
        offsets = np.array([layout.offset[enterprise] for enterprise in readings_of], dtype=np.int64)
        bounds = np.searchsorted(batch.place, np.stack([offsets, offsets + np.diff(starts)]))
        lows, highs = bounds.tolist()
        # the enterprises' ranges, in place order, cover the batch end to end: one reduction each
        filled = sorted(((lo, state) for state, lo, hi in zip(states, lows, highs) if hi > lo), key=lambda item: item[0])
        for (_, state), newest_ts in zip(filled, np.maximum.reduceat(batch.ts, [lo for lo, _ in filled]).tolist()):
            state.watermark = max(state.watermark, newest_ts)

        busy: list[int] = []     # places with state open: tracks and alarms
        for enterprise, state in zip(readings_of, states):
            offset, index = layout.offset[enterprise], self.catalogs[enterprise].index
            busy += [offset + index[key.split("|", 1)[0]] for key in state.tracks]
            busy += [offset + i for alarm in state.alarms.values() if (i := index.get(alarm.point)) is not None]
        picked = np.flatnonzero(interesting(batch, layout, busy))
        if not len(picked):
            return {}, batch
        home = layout.home[batch.place[picked]]
        picked = picked[np.lexsort((batch.place[picked], batch.ts[picked], home))]  # per enterprise, reading-time order across points
        home = layout.home[batch.place[picked]]
        columns = ((batch.place[picked] - home).tolist(), batch.ts[picked].tolist(), batch.value[picked].tolist(),
                   batch.fault[picked].tolist(), batch.above[picked].tolist(), batch.below[picked].tolist(),
                   batch.above_held[picked].tolist(), batch.below_held[picked].tolist(), newest[batch.slot[picked]].tolist())
        ranges = np.searchsorted(home, np.stack([offsets, offsets + np.diff(starts)])).tolist()
        return {enterprise: Rows(columns, lo, hi) for enterprise, lo, hi in zip(readings_of, *ranges) if hi > lo}, batch

    def _keep_newest(self, readings_of: dict[str, list[ReadingBatch]], batch: Classified) -> None:
        """Each point's newest reading time and value, after the per-reading rules have used the old ones."""
        if not len(batch.ts):
            return
        states = [self.states[enterprise] for enterprise in readings_of]
        starts = np.cumsum([0, *(len(state.last_ts) for state in states)]).tolist()
        ends = np.ones(len(batch.place), dtype=bool)
        ends[:-1] = batch.place[1:] != batch.place[:-1]
        last_ts = np.concatenate([state.last_ts for state in states])
        last_value = np.concatenate([state.last_value for state in states])
        last_ts[batch.slot[ends]] = batch.ts[ends]
        last_value[batch.slot[ends]] = batch.value[ends]
        for state, start, end in zip(states, starts[:-1], starts[1:]):
            state.last_ts[:] = last_ts[start:end]
            state.last_value[:] = last_value[start:end]

    def _run_rules(self, catalog: Catalog, state: EnterpriseState, book: AlarmBook, rows: Rows) -> None:
        runner = PointRulesRunner(catalog, state, book, self.gap_ms[book.enterprise])
        previous: dict[int, float] = {}
        changed_at: float | None = None   # a reading time at which a point's alarm changed: its pond is judged after it
        for p, t, v, f, up, dn, up_held, dn_held, newest in zip(*(column[rows.start:rows.end] for column in rows.columns)):
            if changed_at is not None and t != changed_at:   # every reading of that time is in: judge the ponds then
                judge_ponds(catalog, book, int(changed_at))
                changed_at = None
            sent = book.sent
            runner.reading(p, t, v, FAULT_REASONS[f], up, up_held, dn, dn_held, previous.get(p, newest))
            previous[p] = t
            if catalog.ponds and book.sent != sent:
                changed_at = t
        if changed_at is not None:
            judge_ponds(catalog, book, int(changed_at))
