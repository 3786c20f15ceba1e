"""The live feed of alarm changes to the desk's open pages (server-sent events, ``/desk/events``).

The alerting service publishes every live change of an alarm; each open page holds a bounded queue
of its own. A page that falls ``queue_max`` changes behind (a frozen tab, a dead network) is not
waited for: its queue ends with :data:`RELOAD` and the page reloads the whole list, so one slow
page never holds the service or another page back.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Final

from alerting.model import Alarm

RELOAD: Final = "reload"
Change = tuple[Alarm, str] | str   # (alarm, what changed) or RELOAD


class AlarmFeed:
    def __init__(self, queue_max: int = 1000) -> None:
        self.queue_max = queue_max
        self._pages: set[asyncio.Queue[Change]] = set()

    @property
    def pages(self) -> int:
        return len(self._pages)

    def publish(self, alarm: Alarm, change: str) -> None:
        for queue in list(self._pages):
            if queue.qsize() >= self.queue_max - 1:     # the last place is kept for RELOAD
                self._pages.discard(queue)
                queue.put_nowait(RELOAD)
            else:
                queue.put_nowait((alarm, change))

    def close(self) -> None:
        """Every open page told to reload (the service is stopping: its event streams end now, not at a timeout)."""
        for queue in list(self._pages):
            self._pages.discard(queue)
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(RELOAD)

    @contextmanager
    def subscribe(self) -> Iterator[asyncio.Queue[Change]]:
        queue: asyncio.Queue[Change] = asyncio.Queue(self.queue_max)
        self._pages.add(queue)
        try:
            yield queue
        finally:
            self._pages.discard(queue)
