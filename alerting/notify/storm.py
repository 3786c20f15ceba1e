"""Storm control: one enterprise's alarm changes within a short window go out as one message.

The first change of an enterprise goes out at once (no added latency for the common case); further
changes within ``window_s`` are held and sent together when the window ends. Fire alarms are never
held: they go out at once, alone, ahead of anything waiting.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable

from alerting.notify.message import Notification, NotifiedChange

Send = Callable[[Notification], None]


class StormControl:
    def __init__(self, window_s: float, send: Send, enterprise_name: Callable[[str], str]) -> None:
        self._window_s = window_s
        self._send = send
        self._enterprise_name = enterprise_name
        self._held: dict[str, Notification] = {}
        self._window_open: dict[str, asyncio.TimerHandle] = {}

    def submit(self, enterprise: str, change: NotifiedChange, urgent: bool) -> None:
        if urgent or enterprise not in self._window_open:
            self._send(Notification(enterprise, self._enterprise_name(enterprise), [change]))
            if not urgent and self._window_s > 0:
                self._open_window(enterprise)
            return
        held = self._held.setdefault(enterprise, Notification(enterprise, self._enterprise_name(enterprise)))
        held.changes.append(change)

    def _open_window(self, enterprise: str) -> None:
        loop = asyncio.get_running_loop()
        self._window_open[enterprise] = loop.call_later(self._window_s, self._window_ends, enterprise)

    def _window_ends(self, enterprise: str) -> None:
        del self._window_open[enterprise]
        held = self._held.pop(enterprise, None)
        if held is not None:
            self._send(held)
            self._open_window(enterprise)  # the storm goes on: keep grouping

    def flush(self) -> None:
        """Send everything held now (at shutdown)."""
        for handle in self._window_open.values():
            handle.cancel()
        self._window_open.clear()
        for held in self._held.values():
            self._send(held)
        self._held.clear()
