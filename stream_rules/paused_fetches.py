"""Fetches that never take records of a paused partition, even when Faust has paused every partition.

Faust hands each fetch its live set of active (unpaused) partitions, and aiokafka's
``Fetcher.fetched_records(partitions)`` drains the records it holds for the partitions in that set
(``if partitions and tp not in partitions: continue``): an *empty* set is taken as "all partitions".
At the end of a table recovery Faust pauses the changelog partitions while the stream partitions are
still paused, so for a moment the set is empty; a fetch begun before that moment and woken during it
drained every stream partition's fetched records, and Faust's ``getmany`` then dropped them (not from
an active partition). The stream partitions had already been sought to their committed offsets, so
the fetch position stayed past the dropped records: the next record read was counted as following a
gap, the commit counted the gap as done, and the records in it were never applied. The successor of a
stopped worker lost up to 700 records a partition so (``tests/stream_rules/test_backlog_kills.py``,
``test_restarts_while_records_keep_arriving``: three runs in nine; the fault bench's rules-term phase lost
four alarms once, with the same ``also_in_gaps`` in its log).

``drain_only_active`` wraps the consumer thread's ``getmany`` so that the set it passes on is never
empty to aiokafka's test and still follows Faust's pauses and resumes as they happen.
"""

from __future__ import annotations

from collections.abc import Iterator, Set
from typing import Any

from faust.types import TP


class ActivePartitions(Set[TP]):
    """A live view of Faust's active partitions that is true even when empty: ``fetched_records`` then
    drains nothing instead of everything."""

    def __init__(self, live: Set[TP]) -> None:
        self._live = live

    def __contains__(self, tp: object) -> bool:
        return tp in self._live

    def __iter__(self) -> Iterator[TP]:
        return iter(set(self._live))

    def __len__(self) -> int:
        return len(self._live)

    def __bool__(self) -> bool:
        return True


def drain_only_active(consumer_thread: Any) -> None:
    """Have every fetch of ``consumer_thread`` (Faust's ``AIOKafkaConsumerThread``) drain only partitions
    active while it drains; idempotent."""
    if getattr(consumer_thread, "_draining_only_active", False):
        return
    getmany = consumer_thread.getmany

    async def getmany_of_active(active_partitions: Set[TP] | None, wait_s: float) -> Any:
        if active_partitions is not None:
            active_partitions = ActivePartitions(active_partitions)
        return await getmany(active_partitions, wait_s)   # Faust passes both by position

    consumer_thread.getmany = getmany_of_active
    consumer_thread._draining_only_active = True
