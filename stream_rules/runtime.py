"""Keeps the engine's in-memory state and a Faust table (any mutable mapping) in step.

Before a batch, an enterprise's state is (re)loaded from the table when the table holds a value
this process did not write (after recovery from the changelog, or after a rebalance); after the
batch, every touched enterprise's state is written back, which sends it to the changelog.
"""

from __future__ import annotations

from collections.abc import Iterable, MutableMapping, Sequence

from hazmon.wire import AlarmTransition, DeviceStatus, Event, ReadingBatch
from stream_rules.engine import RuleEngine


class TableRuntime:
    def __init__(self, engine: RuleEngine, table: MutableMapping[bytes, bytes]) -> None:
        self.engine = engine
        self.table = table
        self._written: dict[str, bytes] = {}

    def process(self, readings: Sequence[ReadingBatch] = (), events: Sequence[Event] = (),
                statuses: Sequence[DeviceStatus] = ()) -> list[AlarmTransition]:
        enterprises = {r["enterprise"] for r in readings} | {e["enterprise"] for e in events} | \
                      {s["enterprise"] for s in statuses}
        known = [e for e in enterprises if e in self.engine.catalogs]
        self._sync_in(known)
        transitions = self.engine.process(readings, events, statuses)
        self._sync_out(known)
        return transitions

    def tick(self, now_ms: int, owned: Iterable[str]) -> list[AlarmTransition]:
        """Deadman over the enterprises this worker owns now (their partitions are assigned here)."""
        owned = [e for e in owned if e in self.engine.catalogs]
        self._sync_in(owned)
        for enterprise in set(self.engine.states) - set(owned):
            self.drop(enterprise)
        transitions = self.engine.tick(now_ms)
        self._sync_out({t["enterprise"] for t in transitions})
        return transitions

    def drop(self, enterprise: str) -> None:
        self.engine.states.pop(enterprise, None)
        self._written.pop(enterprise, None)

    def _sync_in(self, enterprises: Iterable[str]) -> None:
        for enterprise in enterprises:
            raw = self.table.get(enterprise.encode())
            if raw is None:
                if enterprise in self._written:   # the table lost it (partition moved): start over from nothing
                    self.drop(enterprise)
            elif raw is not self._written.get(enterprise):
                self.engine.load(enterprise, raw)
                self._written[enterprise] = raw

    def _sync_out(self, enterprises: Iterable[str]) -> None:
        for enterprise in enterprises:
            raw = self.engine.dump(enterprise)
            self.table[enterprise.encode()] = raw
            self._written[enterprise] = raw
