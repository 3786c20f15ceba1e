"""Commits that keep up after a rebalance: duplicate acknowledged offsets no longer slow them to one a commit.

faust-streaming 0.15 commits, per partition, the end of the first run of consecutive offsets in
its sorted list of acknowledged offsets (``Consumer._new_offset``). Offsets it has marked as a gap
(records it will never see) are merged into that list without checking whether they were also
acknowledged, which happens around a rebalance's seek back to the committed offset. Every
duplicate then ends a run early, so each commit moved a partition by one offset: after a failover
a worker processed its backlog at once but committed it at about one record per second per
partition (seen as a rules lag draining by ~2 records/s for minutes in ``bench/pipeline.py
--failover``).

``drop_duplicate_acks`` wraps the consumer's ``_new_offset`` so that, before Faust looks for the
run, an offset appears once: duplicates in the acknowledged list are dropped, and acknowledged
offsets are cut out of the gaps. A real gap (a record not yet acknowledged) still stops the commit.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from faust.types import TP, ConsumerT

log = logging.getLogger("stream_rules.acked_offsets")


def drop_duplicate_acks(consumer: ConsumerT) -> None:
    """Have ``consumer`` find its committable offsets with every offset counted once; idempotent."""
    if getattr(consumer, "_dropping_duplicate_acks", False):
        return
    first_run: Callable[[TP], int | None] = consumer._new_offset  # type: ignore[attr-defined]

    def new_offset(tp: TP) -> int | None:
        acked: list[int] = consumer._acked[tp]  # type: ignore[attr-defined]
        gaps = consumer._gap[tp]  # type: ignore[attr-defined]  # an IntervalTree of offsets never to be seen
        unique = set(acked)
        twice = len(acked) - len(unique)
        if twice:
            acked[:] = sorted(unique)
        in_gaps = [offset for offset in acked if gaps.overlaps(offset)] if gaps else []
        gap_spans = sorted((interval.begin, interval.end) for interval in gaps) if gaps else []
        for offset in in_gaps:
            gaps.chop(offset, offset + 1)
        if twice or in_gaps:
            log.info("acknowledged offsets counted once before the commit", extra={
                "topic": tp.topic, "partition": tp.partition, "duplicates": twice, "also_in_gaps": len(in_gaps),
                "in_gaps": in_gaps[:10], "gaps": gap_spans[:10], "acked": [acked[0], acked[-1], len(acked)] if acked else [],
                "committed": consumer._committed_offset.get(tp),  # type: ignore[attr-defined]
                "read": consumer._read_offset.get(tp)})  # type: ignore[attr-defined]
        return first_run(tp)

    consumer._new_offset = new_offset  # type: ignore[attr-defined]  # Faust calls it by attribute
    consumer._dropping_duplicate_acks = True  # type: ignore[attr-defined]
