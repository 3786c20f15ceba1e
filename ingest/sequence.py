"""Per-device ``seq`` bookkeeping (data standard §3): drop duplicates, count lost messages.

A device's recent sequence numbers are remembered in a bounded window, so a redelivered message
is recognised even after later ones arrived. A number far below the window means the device
restarted its counter: the device's history starts over.
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

WINDOW = 4096


class SeqVerdict(Enum):
    NEW = "new"
    DUPLICATE = "duplicate"


@dataclass(slots=True)
class _DeviceSeqs:
    highest: int
    recent: set[int] = field(default_factory=set)
    order: deque[int] = field(default_factory=deque)

    def remember(self, seq: int) -> None:
        self.recent.add(seq)
        self.order.append(seq)
        if len(self.order) > WINDOW:
            self.recent.discard(self.order.popleft())


@dataclass(slots=True)
class SeqTracker:
    devices: dict[tuple[str, str], _DeviceSeqs] = field(default_factory=dict)

    def observe(self, enterprise: str, device: str, seq: int) -> tuple[SeqVerdict, int]:
        """Whether ``seq`` is new for the device, and how many messages were skipped before it."""
        key = (enterprise, device)
        state = self.devices.get(key)
        if state is None or seq < state.highest - WINDOW:
            state = self.devices[key] = _DeviceSeqs(seq)
            state.remember(seq)
            return SeqVerdict.NEW, 0
        if seq in state.recent:
            return SeqVerdict.DUPLICATE, 0
        gap = max(0, seq - state.highest - 1)
        state.highest = max(state.highest, seq)
        state.remember(seq)
        return SeqVerdict.NEW, gap

