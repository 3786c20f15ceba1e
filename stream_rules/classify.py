"""Vectorized first pass over one enterprise's readings: order, lateness, faults and limit levels.

Everything here is numpy over the whole batch; only the readings it marks ``interesting`` go on
to the per-reading state machine (a point beyond a limit, faulty, or with state still open).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazmon.wire import Quality
from stream_rules.catalog import LEVELS, Catalog
from stream_rules.state import EnterpriseState

SEVERITIES = np.arange(1, LEVELS + 1)
# 4: beyond the range on the dangerous side (§8 fail-safe): a sensor fault, and judged beyond the side's worst limit
FAULT_REASONS: tuple[str | None, ...] = (None, "not_finite", "out_of_range", "quality_bad", "over_range")
OVER_RANGE = 4


@dataclass(slots=True)
class Classified:
    """A batch sorted by (point, reading time), with late readings removed."""

    point: np.ndarray      # catalog index
    ts: np.ndarray         # reading time, ms
    value: np.ndarray
    fault: np.ndarray      # index into FAULT_REASONS, 0 = good
    above: np.ndarray      # highest severity breached above (0 = none)
    below: np.ndarray
    above_held: np.ndarray  # highest severity not yet back inside by the deadband (clearing)
    below_held: np.ndarray
    late: int
    unknown: int


def classify(catalog: Catalog, state: EnterpriseState, points: list[str], ts: np.ndarray,
             values: np.ndarray, quality: np.ndarray) -> Classified:
    index = catalog.index
    point = np.fromiter((index.get(p, -1) for p in points), dtype=np.int64, count=len(points))
    known = point >= 0
    unknown = int(len(point) - known.sum())
    point, ts, values, quality = point[known], ts[known], values[known], quality[known]
    order = np.lexsort((ts, point))
    point, ts, values, quality = point[order], ts[order], values[order], quality[order]
    repeat = np.zeros(len(point), dtype=bool)
    repeat[1:] = (point[1:] == point[:-1]) & (ts[1:] == ts[:-1])
    keep = (ts > state.last_ts[point]) & ~repeat
    late = int(len(point) - keep.sum())
    point, ts, values, quality = point[keep], ts[keep], values[keep], quality[keep]

    fault = np.zeros(len(point), dtype=np.int8)
    fault[quality == Quality.BAD] = 3
    over_top, under_bottom = values > catalog.high[point], values < catalog.low[point]
    fault[over_top | under_bottom] = 2
    fault[(over_top & catalog.guards_above[point]) | (under_bottom & catalog.guards_below[point])] = OVER_RANGE
    finite = np.isfinite(values)
    fault[~finite] = 1
    safe = np.where(finite, values, 0.0)[:, None]
    good = ((fault == 0) | (fault == OVER_RANGE))[:, None]
    above_thr, below_thr = catalog.above[point], catalog.below[point]
    deadband = catalog.deadband[point][:, None]
    above = ((safe >= above_thr) & good) * SEVERITIES
    below = ((safe <= below_thr) & good) * SEVERITIES
    above_held = ((safe > above_thr - deadband) & good) * SEVERITIES
    below_held = ((safe < below_thr + deadband) & good) * SEVERITIES
    above, below = above.max(axis=1, initial=0), below.max(axis=1, initial=0)
    over = fault == OVER_RANGE   # judged beyond the worst limit of its side, whatever the threshold
    above[over & over_top] = catalog.worst_above[point[over & over_top]]
    below[over & under_bottom] = catalog.worst_below[point[over & under_bottom]]
    return Classified(point, ts, values, fault, above, below, np.maximum(above_held.max(axis=1, initial=0), above),
                      np.maximum(below_held.max(axis=1, initial=0), below), late, unknown)


def interesting(batch: Classified, catalog: Catalog, busy: np.ndarray) -> np.ndarray:
    """Readings the per-reading rules must see: a point beyond a limit, faulty, slow-path, or ``busy`` (state open)."""
    hot = (batch.above > 0) | (batch.below > 0) | (batch.fault > 0)
    points = np.unique(batch.point[hot])
    flagged = busy.copy()
    flagged[points] = True
    flagged |= catalog.slow
    return flagged[batch.point]
