"""Keeps the engine's in-memory state and a Faust table (any mutable mapping) in step, and skips replays.

Before a batch, an enterprise's state is (re)loaded from the table when the table holds a value
this process did not write (after recovery from the changelog, or after a rebalance). Touched
enterprises are marked dirty and written back by ``flush``, which the worker calls just before each
commit and whose pairs it sends to the changelog itself: one record per enterprise per commit.

The state also holds, per source topic, the offset of the last record applied to it. It commits
in the same transaction as the outputs that record caused, so a record read again (Faust seeks a
partition back to its committed offset after a rebalance, and may deliver records it had already
passed to an agent) is recognised and skipped instead of producing its alarms a second time.

A record the engine raises on (a value it cannot take, or a defect of the engine met by one
enterprise's data) is set aside, and the batch is evaluated without it: one enterprise's bad record
does not take the other enterprises' alarms with it. The engine may have changed any state of the
batch before it raised (the enterprises it had evaluated, part of the failing one, the receiving
clock), and those changes belong to outputs that were never returned. So before each batch the
runtime keeps a copy of the state of every enterprise in it and of the engine's clocks;
on a failure it restores that copy, finds the records the engine fails on (each enterprise's records
alone, then each of the failing enterprise's records alone, then one by one on top of those that
passed), and evaluates the batch without them from the restored state. That is exactly the batch as
if the bad records had never been written. Restoring the state as of the last flush (the table)
instead would be wrong: the outputs of the batches evaluated since, already sent in the open
transaction, would commit with state that had not seen them (a raised alarm raised again).
The copy (``Snapshot``, ``EnterpriseState.frozen``: tuples and copied arrays) cost ~11 µs an enterprise when its
fields were pickled, ~8 % of the engine's time on a backlog batch of bench/rules.py's quiet county and 8 % of the
worker's busy time on records of ~9 readings each; as tuples it costs about a third of that
(docs/stream_rules.md, "The worker's cost per record"). A failure costs a few more evaluations of the failing
enterprise's records.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable, MutableMapping, Sequence
from typing import Any

from hazmon.wire import AlarmTransition
from stream_rules.admission import Kind
from stream_rules.engine import RuleEngine
from stream_rules.state import EnterpriseState

SetAside = Callable[[int, Exception], None]   # (position of the record in the batch, what the engine raised)


class Snapshot:
    """The engine's state of some enterprises and its clocks, to go back to after a failed evaluation.

    Each state is kept as ``EnterpriseState.frozen`` (tuples and copied arrays)."""

    def __init__(self, engine: RuleEngine, enterprises: Iterable[str]) -> None:
        self.engine = engine
        self.clocks = (engine.receiving_ms, engine.resumed_ms, Counter(engine.counters))
        self.states = {e: None if (state := engine.states.get(e)) is None else state.frozen() for e in enterprises}

    def restore(self) -> None:
        engine = self.engine
        engine.receiving_ms, engine.resumed_ms, counters = self.clocks
        engine.counters.clear()
        engine.counters.update(counters)
        for enterprise, copy in self.states.items():
            if copy is None:
                engine.states.pop(enterprise, None)
            else:
                # a fresh state each time: the snapshot may be restored again (one try per suspect record)
                engine.states[enterprise] = EnterpriseState.thawed(copy)


class TableRuntime:
    def __init__(self, engine: RuleEngine, table: MutableMapping[bytes, bytes]) -> None:
        self.engine = engine
        self.table = table
        self._written: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self.replayed: Counter[str] = Counter()   # topic → records skipped as already applied

    def process(self, kind: Kind, topic: str, offsets: Sequence[int], records: Sequence[dict],
                set_aside: SetAside | None = None) -> list[AlarmTransition]:
        """Apply ``records`` of one ``kind`` read from ``topic`` at ``offsets`` (one each, one partition per enterprise).

        With ``set_aside``, a record the engine raises on is handed to it (with its position in ``records``)
        and the rest evaluated without it; without, the engine's exception propagates."""
        known = {r["enterprise"] for r in records if r["enterprise"] in self.engine.catalogs}
        self._sync_in(known)
        fresh: list[tuple[int, Any]] = []   # (position, wire record of ``kind`` as decoded: the engine's TypedDicts)
        newest: dict[str, int] = {}
        for position, (offset, record) in enumerate(zip(offsets, records, strict=True)):
            enterprise = record["enterprise"]
            if enterprise in known:
                if offset <= self._applied(enterprise, topic):
                    self.replayed[topic] += 1
                    continue
                newest[enterprise] = max(offset, newest.get(enterprise, offset))
            fresh.append((position, record))   # an unknown enterprise's records too: the engine counts what it drops
        # a record set aside is applied too (its offset is remembered): it is dead-lettered in the same transaction
        transitions = self._evaluate(kind, fresh, known, set_aside)
        for enterprise, offset in newest.items():
            self.engine.state(enterprise).applied[topic] = offset
        self._dirty.update(newest)
        return transitions

    def _evaluate(self, kind: Kind, fresh: list[tuple[int, Any]], known: set[str],
                  set_aside: SetAside | None) -> list[AlarmTransition]:
        if set_aside is None:
            return self.engine.process(**{kind: [record for _, record in fresh]})
        before = Snapshot(self.engine, known)
        try:
            return self.engine.process(**{kind: [record for _, record in fresh]})
        except Exception:  # noqa: BLE001 - whatever the engine raised on, the records that caused it are found below
            failed = self._failing(kind, fresh, before)
        before.restore()
        for position, error in failed.items():
            set_aside(position, error)
        return self.engine.process(**{kind: [record for position, record in fresh if position not in failed]})

    def _failing(self, kind: Kind, fresh: list[tuple[int, Any]], before: Snapshot) -> dict[int, Exception]:
        """Position → exception of each record of ``fresh`` the engine fails on, each tried from ``before``:
        an enterprise's records together; when they fail, each alone; when none fails alone, one by one
        on top of those that passed."""
        by_enterprise: dict[str, list[tuple[int, Any]]] = {}
        for position, record in fresh:
            by_enterprise.setdefault(record["enterprise"], []).append((position, record))
        failed: dict[int, Exception] = {}
        for group in by_enterprise.values():
            if self._fails(kind, [record for _, record in group], before) is None:
                continue
            alone = {position: error for position, record in group
                     if (error := self._fails(kind, [record], before)) is not None}
            failed.update(alone)
            rest = [(position, record) for position, record in group if position not in alone]
            if alone and self._fails(kind, [record for _, record in rest], before) is None:
                continue
            passed: list[Any] = []
            for position, record in rest:
                error = self._fails(kind, [*passed, record], before)
                if error is None:
                    passed.append(record)
                else:
                    failed[position] = error
        return failed

    def _fails(self, kind: Kind, records: list[Any], before: Snapshot) -> Exception | None:
        """What the engine raises on ``records`` evaluated from ``before``; None when it does not."""
        before.restore()
        try:
            self.engine.process(**{kind: records})
        except Exception as error:  # noqa: BLE001 - the error is the answer
            return error
        return None

    def tick(self, now_ms: int, enterprises: Iterable[str], topic: str, offset: int) -> list[AlarmTransition]:
        """Deadman at ``now_ms`` over ``enterprises`` (one partition's), for the tick read at ``offset`` of ``topic``."""
        enterprises = [e for e in enterprises if e in self.engine.catalogs]
        self._sync_in(enterprises)
        due = [e for e in enterprises if offset > self._applied(e, topic)]
        self.replayed[topic] += len(enterprises) - len(due)
        transitions = self.engine.tick(now_ms, due)
        alarmed = {t["enterprise"] for t in transitions}
        for enterprise in alarmed:   # a tick that changed nothing need not be remembered: replayed, it changes nothing
            self.engine.state(enterprise).applied[topic] = offset
        self._dirty.update(alarmed)
        return transitions

    def flush(self, which: Callable[[str], bool] | None = None) -> list[tuple[bytes, bytes]]:
        """Write every enterprise changed since the last flush (only those ``which`` accepts, when given) to the
        table; the (key, value) pairs written. The others stay to be flushed."""
        flushed = self._dirty if which is None else {e for e in self._dirty if which(e)}
        written = []
        for enterprise in flushed:
            key, raw = enterprise.encode(), self.engine.dump(enterprise)
            self.table[key] = raw
            self._written[enterprise] = raw
            written.append((key, raw))
        self._dirty -= flushed
        return written

    def _applied(self, enterprise: str, topic: str) -> int:
        state = self.engine.states.get(enterprise)
        return -1 if state is None else state.applied.get(topic, -1)

    def drop(self, enterprise: str) -> None:
        self.engine.states.pop(enterprise, None)
        self._written.pop(enterprise, None)
        self._dirty.discard(enterprise)

    def _sync_in(self, enterprises: Iterable[str]) -> None:
        for enterprise in enterprises:
            raw = self.table.get(enterprise.encode())
            if raw is None:
                if enterprise in self._written:   # the table lost it (partition moved): start over from nothing
                    self.drop(enterprise)
            elif raw is not self._written.get(enterprise):
                self.engine.load(enterprise, raw)
                self._written[enterprise] = raw
