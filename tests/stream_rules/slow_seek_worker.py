"""A rules worker (``--no-restart``) on a machine as loaded as the fault bench's: Faust's seek of the stream
partitions to their committed offsets at the end of a table recovery takes ``HAZMON_TEST_SEEK_DELAY_S``.

Run as ``python -m tests.stream_rules.slow_seek_worker`` by ``test_backlog_kills.py``. Only the delay is
added; the worker is the real one.
"""

from __future__ import annotations

import asyncio
import os
import sys

from faust.transport.consumer import Consumer

from stream_rules.cli import _run_faust

DELAY_S = float(os.environ.get("HAZMON_TEST_SEEK_DELAY_S", "1.5"))
_perform_seek = Consumer.perform_seek


async def slow_perform_seek(self: Consumer) -> None:
    await asyncio.sleep(DELAY_S)
    await _perform_seek(self)


if __name__ == "__main__":
    Consumer.perform_seek = slow_perform_seek  # type: ignore[method-assign]
    sys.exit(_run_faust("warn"))
