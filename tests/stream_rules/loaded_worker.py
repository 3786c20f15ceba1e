"""A rules worker (``--no-restart``) on a machine as loaded as the fault bench's or CI's, where the end of a
table recovery goes wrong in the ways seen there:

* ``HAZMON_TEST_SEEK_DELAY_S``: Faust's seek of the stream partitions to their committed offsets takes that
  long.
* ``HAZMON_TEST_DROP_BEFORE_SEEK=1``: before that seek, every stream partition's fetch position has moved to
  its end, as when Faust drained fetched records from aiokafka and dropped them (its ``getmany`` drops what
  it fetched when the flow stopped or the generation changed meanwhile, counting on the seek to fetch them
  again).

Run as ``python -m tests.stream_rules.loaded_worker`` by ``test_backlog_kills.py``. Only these are added;
the worker is the real one.
"""

from __future__ import annotations

import asyncio
import os
import sys

from aiokafka import TopicPartition
from faust.transport.consumer import Consumer, ThreadDelegateConsumer

from stream_rules.cli import _run_faust

DELAY_S = float(os.environ.get("HAZMON_TEST_SEEK_DELAY_S", "1.5"))
DROP_BEFORE_SEEK = os.environ.get("HAZMON_TEST_DROP_BEFORE_SEEK") == "1"
_perform_seek = Consumer.perform_seek


async def loaded_perform_seek(self: ThreadDelegateConsumer) -> None:
    await asyncio.sleep(DELAY_S)
    if DROP_BEFORE_SEEK:
        streams = [TopicPartition(tp.topic, tp.partition) for tp in self.assignment() if not self._is_changelog_tp(tp)]
        thread = self._thread
        if streams:
            await thread.call_thread(thread._ensure_consumer().seek_to_end, *streams)  # type: ignore[attr-defined]
    await _perform_seek(self)


if __name__ == "__main__":
    Consumer.perform_seek = loaded_perform_seek  # type: ignore[assignment]
    sys.exit(_run_faust("warn"))
