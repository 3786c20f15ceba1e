"""Keeps the engine's in-memory state and a Faust table (any mutable mapping) in step, and skips replays.

Before a batch, an enterprise's state is (re)loaded from the table when the table holds a value
this process did not write (after recovery from the changelog, or after a rebalance). Touched
enterprises are marked dirty and written back by ``flush``, which the worker calls just before each
commit and whose pairs it sends to the changelog itself: one record per enterprise per commit.

The state also holds, per source topic, the offset of the last record applied to it. It commits
in the same transaction as the outputs that record caused, so a record read again (Faust seeks a
partition back to its committed offset after a rebalance, and may deliver records it had already
passed to an agent) is recognised and skipped instead of producing its alarms a second time.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, MutableMapping, Sequence
from typing import Any, Literal

from hazmon.wire import AlarmTransition
from stream_rules.engine import RuleEngine

Kind = Literal["readings", "events", "statuses"]


class TableRuntime:
    def __init__(self, engine: RuleEngine, table: MutableMapping[bytes, bytes]) -> None:
        self.engine = engine
        self.table = table
        self._written: dict[str, bytes] = {}
        self._dirty: set[str] = set()
        self.replayed: Counter[str] = Counter()   # topic → records skipped as already applied

    def process(self, kind: Kind, topic: str, offsets: Sequence[int], records: Sequence[dict]) -> list[AlarmTransition]:
        """Apply ``records`` of one ``kind`` read from ``topic`` at ``offsets`` (one each, one partition per enterprise)."""
        known = {r["enterprise"] for r in records if r["enterprise"] in self.engine.catalogs}
        self._sync_in(known)
        fresh: list[Any] = []   # wire records of ``kind``, as decoded (the engine's TypedDicts)
        newest: dict[str, int] = {}
        for offset, record in zip(offsets, records, strict=True):
            enterprise = record["enterprise"]
            if enterprise in known:
                if offset <= self._applied(enterprise, topic):
                    self.replayed[topic] += 1
                    continue
                newest[enterprise] = max(offset, newest.get(enterprise, offset))
            fresh.append(record)   # an unknown enterprise's records too: the engine counts what it drops
        transitions = self.engine.process(**{kind: fresh})
        for enterprise, offset in newest.items():
            self.engine.state(enterprise).applied[topic] = offset
        self._dirty.update(newest)
        return transitions

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

    def flush(self) -> list[tuple[bytes, bytes]]:
        """Write every enterprise changed since the last flush to the table; the (key, value) pairs written."""
        written = []
        for enterprise in self._dirty:
            key, raw = enterprise.encode(), self.engine.dump(enterprise)
            self.table[key] = raw
            self._written[enterprise] = raw
            written.append((key, raw))
        self._dirty.clear()
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
