"""Table recovery that ends as soon as a transactional changelog is read, instead of ~10 s later.

Faust recovers a table partition until it has applied the record at ``end offset − 1`` of its
changelog. When the changelog is written in Kafka transactions (``exactly_once``) that offset
holds the commit marker of the last transaction, which a ``read_committed`` consumer never
receives, so Faust waits for two idle 5 s polls of the changelog queue before it notices the
position has passed the marker. With two workers, that wait was most of the time a killed
worker's partitions took to be processed again on the survivor.

Every transaction that wrote to a changelog partition wrote at least one record to it before its
marker, so the last record a ``read_committed`` consumer can receive is at ``end offset − 2``.
``TransactionalRecovery`` targets that one. If the last transaction was aborted (a crash), that
record never comes and Faust's own idle-poll fallback ends the recovery as before: slower, never
wrong.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Set

from faust.tables import TableManager
from faust.tables.recovery import Recovery
from faust.types import TP, ConsumerT


class TransactionalRecovery(Recovery):
    async def _build_highwaters(self, consumer: ConsumerT, tps: Set[TP], destination: Counter[TP], title: str) -> None:
        await super()._build_highwaters(consumer, tps, destination, title)
        for tp, last in destination.items():
            if last > 0:   # end offset ≥ 2: data and a marker behind it; an empty partition keeps −1
                destination[tp] = last - 1


class TransactionalTableManager(TableManager):
    """The app's table manager (``faust.App(TableManager=...)``) recovering with ``TransactionalRecovery``."""

    @property
    def recovery(self) -> Recovery:
        if self._recovery is None:
            self._recovery = TransactionalRecovery(self.app, self, beacon=self.beacon, loop=self.loop)
        return self._recovery
