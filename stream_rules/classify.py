"""Vectorized first pass over a batch of readings of many enterprises at once: order, lateness,
faults and limit levels.

Every enterprise's catalog is laid end to end in one :class:`Layout`, so that a batch is classified
in a few numpy operations whatever the number of enterprises in it (a per-enterprise pass spent most
of its time on numpy's fixed cost per call). Only the readings marked ``interesting`` go on to the
per-reading state machine (a point beyond a limit, faulty, slow-path, or with state still open).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazmon.wire import Quality
from stream_rules.catalog import LEVELS, Catalog

SEVERITIES = np.arange(1, LEVELS + 1)
# 4: beyond the range on the dangerous side (§8 fail-safe): a sensor fault, and judged beyond the side's worst limit
FAULT_REASONS: tuple[str | None, ...] = (None, "not_finite", "out_of_range", "quality_bad", "over_range")
OVER_RANGE = 4
PLACES_CACHE_MAX = 100_000   # point lists remembered; forgotten all at once beyond this


class Layout:
    """All enterprises' catalogs end to end: a point's place is its enterprise's ``offset`` plus its
    catalog index. The per-point arrays are the catalogs' own, concatenated."""

    def __init__(self, catalogs: dict[str, Catalog]) -> None:
        self.catalogs = catalogs
        self.offset: dict[str, int] = {}
        size = 0
        for enterprise, catalog in catalogs.items():
            self.offset[enterprise] = size
            size += len(catalog.ids)
        parts = list(catalogs.values())
        self.low = np.concatenate([c.low for c in parts])
        self.high = np.concatenate([c.high for c in parts])
        self.deadband = np.concatenate([c.deadband for c in parts])
        self.above = np.concatenate([c.above for c in parts])
        self.below = np.concatenate([c.below for c in parts])
        self.worst_above = np.concatenate([c.worst_above for c in parts])
        self.worst_below = np.concatenate([c.worst_below for c in parts])
        self.guards_above, self.guards_below = self.worst_above > 0, self.worst_below > 0
        self.slow = np.concatenate([c.slow for c in parts])
        self.home = np.concatenate([np.full(len(c.ids), self.offset[e], dtype=np.int64) for e, c in catalogs.items()])
        self._places: dict[tuple[str, tuple[str, ...]], list[int]] = {}

    def places(self, enterprise: str, points: list[str]) -> list[int]:
        """Places of ``points`` of ``enterprise`` (−1: not in its catalog); a device sends the same
        list of points record after record, so each list is looked up once."""
        key = (enterprise, tuple(points))
        places = self._places.get(key)
        if places is None:
            if len(self._places) >= PLACES_CACHE_MAX:
                self._places.clear()
            offset, index = self.offset[enterprise], self.catalogs[enterprise].index
            places = self._places[key] = [offset + i if (i := index.get(p, -1)) >= 0 else -1 for p in points]
        return places


@dataclass(slots=True)
class Classified:
    """A batch sorted by (place, reading time), with late readings removed."""

    place: np.ndarray      # Layout place (enterprise offset + catalog index)
    slot: np.ndarray       # where the point's per-point state is in the caller's concatenated arrays
    ts: np.ndarray         # reading time, ms
    value: np.ndarray
    fault: np.ndarray      # index into FAULT_REASONS, 0 = good
    above: np.ndarray      # highest severity breached above (0 = none)
    below: np.ndarray
    above_held: np.ndarray  # highest severity not yet back inside by the deadband (clearing)
    below_held: np.ndarray
    late: int


def classify(layout: Layout, place: np.ndarray, slot: np.ndarray, newest: np.ndarray, ts: np.ndarray,
             values: np.ndarray, quality: np.ndarray) -> Classified:
    """``place``/``slot`` of known points only; ``newest``: the reading time each reading's point had
    before this batch (a reading not newer is late, as is a repeat of the same point and time)."""
    order = np.lexsort((ts, place))
    place, slot, newest, ts, values, quality = place[order], slot[order], newest[order], ts[order], values[order], quality[order]
    repeat = np.zeros(len(place), dtype=bool)
    repeat[1:] = (place[1:] == place[:-1]) & (ts[1:] == ts[:-1])
    keep = (ts > newest) & ~repeat
    late = int(len(place) - keep.sum())
    place, slot, ts, values, quality = place[keep], slot[keep], ts[keep], values[keep], quality[keep]

    fault = np.zeros(len(place), dtype=np.int8)
    fault[quality == Quality.BAD] = 3
    over_top, under_bottom = values > layout.high[place], values < layout.low[place]
    fault[over_top | under_bottom] = 2
    fault[(over_top & layout.guards_above[place]) | (under_bottom & layout.guards_below[place])] = OVER_RANGE
    finite = np.isfinite(values)
    fault[~finite] = 1
    safe = np.where(finite, values, 0.0)[:, None]
    good = ((fault == 0) | (fault == OVER_RANGE))[:, None]
    above_thr, below_thr = layout.above[place], layout.below[place]
    deadband = layout.deadband[place][:, None]
    above = ((safe >= above_thr) & good) * SEVERITIES
    below = ((safe <= below_thr) & good) * SEVERITIES
    above_held = ((safe > above_thr - deadband) & good) * SEVERITIES
    below_held = ((safe < below_thr + deadband) & good) * SEVERITIES
    above, below = above.max(axis=1, initial=0), below.max(axis=1, initial=0)
    over = fault == OVER_RANGE   # judged beyond the worst limit of its side, whatever the threshold
    above[over & over_top] = layout.worst_above[place[over & over_top]]
    below[over & under_bottom] = layout.worst_below[place[over & under_bottom]]
    return Classified(place, slot, ts, values, fault, above, below, np.maximum(above_held.max(axis=1, initial=0), above),
                      np.maximum(below_held.max(axis=1, initial=0), below), late)


def interesting(batch: Classified, layout: Layout, busy: list[int]) -> np.ndarray:
    """Readings the per-reading rules must see: a point beyond a limit, faulty, slow-path, or at a
    ``busy`` place (state open)."""
    hot = (batch.above > 0) | (batch.below > 0) | (batch.fault > 0)
    flagged = layout.slow.copy()
    flagged[batch.place[hot]] = True
    flagged[busy] = True
    return flagged[batch.place]
