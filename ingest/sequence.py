"""Per-device ``seq`` bookkeeping (data standard §3): drop duplicates, count lost messages.

A device's recent sequence numbers are remembered in a bounded window, so a redelivered message
is recognised even after later ones arrived. A number far below the window means the device
restarted its counter, and one more than ``MAX_JUMP`` above the highest means it jumped or
overflowed (a device may send any JSON integer): either way the device's history starts over and no
gap is counted, so the ``gaps`` counter stays a plausible count of lost messages (it once reached
2^64 - 3, which InfluxDB refuses as an int64 field, and the stats writer retried that batch for good).
"""

from __future__ import annotations

from collections import deque
from dataclasses import dataclass, field
from enum import Enum

WINDOW = 4096
MAX_JUMP = 1_000_000  # more skipped messages than this is a new counter, not a loss


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
        if state is None or seq < state.highest - WINDOW or seq > state.highest + MAX_JUMP:
            state = self.devices[key] = _DeviceSeqs(seq)
            state.remember(seq)
            return SeqVerdict.NEW, 0
        if seq in state.recent:
            return SeqVerdict.DUPLICATE, 0
        gap = max(0, seq - state.highest - 1)
        state.highest = max(state.highest, seq)
        state.remember(seq)
        return SeqVerdict.NEW, gap

