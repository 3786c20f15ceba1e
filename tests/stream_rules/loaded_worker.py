"""A rules worker (``--no-restart``) on a machine as loaded as the fault bench's or CI's, where the end of a
table recovery goes wrong in the ways seen there:

* ``HAZMON_TEST_SEEK_DELAY_S``: Faust's seek of the stream partitions to their committed offsets takes that
  long.
* ``HAZMON_TEST_DROP_BEFORE_SEEK=1``: before that seek, every stream partition's fetch position has moved to
  its end, as when Faust drained fetched records from aiokafka and dropped them (its ``getmany`` drops what
  it fetched when the flow stopped or the generation changed meanwhile, counting on the seek to fetch them
  again).
* ``HAZMON_TEST_FETCH_WHILE_PAUSED=1``: just after that seek, while every partition is still paused, a fetch
  Faust had begun before the pause returns, and Faust drops what it brought (not from an active
  partition): the successor of a stopped worker lost up to 700 records a partition so, in three runs of nine
  of ``test_restarts_while_records_keep_arriving`` (``also_in_gaps`` in its log).
* ``HAZMON_TEST_SEND_DELAY_S``: each output's send waits that long first, so a stop finds a batch half
  sent (the fault bench's rules-term phase).

Run as ``python -m tests.stream_rules.loaded_worker`` by ``test_backlog_kills.py``. Only these are added;
the worker is the real one.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections.abc import Awaitable
from typing import Any

from aiokafka import TopicPartition
from faust.transport.consumer import Consumer, ThreadDelegateConsumer

from stream_rules.cli import _run_faust
from stream_rules.transactions import PartitionTransactions

DELAY_S = float(os.environ.get("HAZMON_TEST_SEEK_DELAY_S", "1.5"))
DROP_BEFORE_SEEK = os.environ.get("HAZMON_TEST_DROP_BEFORE_SEEK") == "1"
FETCH_WHILE_PAUSED = os.environ.get("HAZMON_TEST_FETCH_WHILE_PAUSED") == "1"
SEND_DELAY_S = float(os.environ.get("HAZMON_TEST_SEND_DELAY_S", "0"))
_perform_seek = Consumer.perform_seek
_send = PartitionTransactions.send


async def loaded_perform_seek(self: ThreadDelegateConsumer) -> None:
    await asyncio.sleep(DELAY_S)
    if DROP_BEFORE_SEEK:
        streams = [TopicPartition(tp.topic, tp.partition) for tp in self.assignment() if not self._is_changelog_tp(tp)]
        thread = self._thread
        if streams:
            await thread.call_thread(thread._ensure_consumer().seek_to_end, *streams)  # type: ignore[attr-defined]
    await _perform_seek(self)
    if FETCH_WHILE_PAUSED:
        active = self._get_active_partitions()     # the live set Faust hands its fetches
        fetched = await self._thread.getmany(active, 0.5)
        dropped = sum(len(records) for tp, records in fetched.items() if tp not in active)
        print(f"loaded_worker: a fetch while paused brought {dropped} records of paused partitions, dropped",
              file=sys.stderr, flush=True)


async def slow_send(self: PartitionTransactions, topic: str, key: bytes | None, value: bytes,
                    partition: int) -> Awaitable[Any]:
    await asyncio.sleep(SEND_DELAY_S)
    return await _send(self, topic, key, value, partition)


if __name__ == "__main__":
    Consumer.perform_seek = loaded_perform_seek  # type: ignore[assignment]
    if SEND_DELAY_S:
        PartitionTransactions.send = slow_send  # type: ignore[method-assign]
    sys.exit(_run_faust("warn"))
