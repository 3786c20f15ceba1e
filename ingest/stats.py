"""Counters per enterprise and reason, published periodically to the ingest-stats topic."""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

from hazmon.wire import WIRE_VERSION


@dataclass(slots=True)
class EnterpriseCounts:
    accepted: int = 0
    duplicates: int = 0
    gaps: int = 0
    refused: Counter[str] = field(default_factory=Counter)

    def add(self, other: EnterpriseCounts) -> None:
        self.accepted += other.accepted
        self.duplicates += other.duplicates
        self.gaps += other.gaps
        self.refused.update(other.refused)


@dataclass(slots=True)
class IngestCounters:
    """One window of counts; ``records`` turns it into ingest-stats records and starts a new one."""

    by_enterprise: dict[str, EnterpriseCounts] = field(default_factory=dict)

    def of(self, enterprise: str) -> EnterpriseCounts:
        counts = self.by_enterprise.get(enterprise)
        if counts is None:
            counts = self.by_enterprise[enterprise] = EnterpriseCounts()
        return counts

    def merge(self, other: IngestCounters) -> None:
        for enterprise, counts in other.by_enterprise.items():
            self.of(enterprise).add(counts)

    def take_records(self, window_end_ms: int) -> list[dict]:
        records = [{"v": WIRE_VERSION, "enterprise": enterprise, "window_end_ms": window_end_ms,
                    "accepted": c.accepted, "duplicates": c.duplicates, "gaps": c.gaps, "refused": dict(c.refused)}
                   for enterprise, c in sorted(self.by_enterprise.items())]
        self.by_enterprise = {}
        return records
