"""Commits after a rebalance keep up: an offset both acknowledged and in a gap is counted once.

Faust's consumer merges its gaps into the acknowledged offsets without removing those already
there; each duplicate then ends the run it commits, one offset per commit. Driven on a real Faust
consumer object (not started: only its offset bookkeeping is used).
"""

from __future__ import annotations

import faust
import pytest
from faust.types import TP

from stream_rules.acked_offsets import drop_duplicate_acks

TOPIC_PARTITION = TP("readings", 0)


@pytest.fixture
def consumer() -> faust.types.ConsumerT:
    consumer = faust.App("test-acked-offsets", broker="kafka://127.0.0.1:9092").consumer
    drop_duplicate_acks(consumer)
    consumer._committed_offset[TOPIC_PARTITION] = 100
    return consumer


def test_acked_offsets_that_are_also_a_gap_commit_in_one_go(consumer: faust.types.ConsumerT) -> None:
    consumer._acked[TOPIC_PARTITION] = list(range(100, 400))
    consumer._gap[TOPIC_PARTITION].addi(101, 399)   # the same offsets, marked never to be seen
    assert consumer._new_offset(TOPIC_PARTITION) == 400


def test_a_duplicate_acknowledgement_does_not_end_the_run(consumer: faust.types.ConsumerT) -> None:
    consumer._acked[TOPIC_PARTITION] = [100, 101, 101, 102, 103, 103, 104]
    assert consumer._new_offset(TOPIC_PARTITION) == 105


def test_a_record_not_yet_acknowledged_still_stops_the_commit(consumer: faust.types.ConsumerT) -> None:
    consumer._acked[TOPIC_PARTITION] = [100, 101, 102, 105, 106]
    consumer._gap[TOPIC_PARTITION].addi(101, 102)
    assert consumer._new_offset(TOPIC_PARTITION) == 103
    assert consumer._acked[TOPIC_PARTITION] == [105, 106]   # kept for when 103 and 104 are acknowledged


def test_installing_twice_wraps_once(consumer: faust.types.ConsumerT) -> None:
    wrapped = consumer._new_offset
    drop_duplicate_acks(consumer)
    assert consumer._new_offset is wrapped
