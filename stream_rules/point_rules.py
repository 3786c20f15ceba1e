"""The per-reading rules of one point: limit confirmation and clearing, faults, stuck values,
trend and rainfall windows. Called in reading-time order for the readings ``classify`` marks.
"""

from __future__ import annotations

from itertools import islice
from operator import itemgetter

from stream_rules.alarms import AlarmBook, Change
from stream_rules.catalog import Catalog, PointRules
from stream_rules.messages import listed_values
from stream_rules.state import EnterpriseState, LevelTrack
from stream_rules.trend import HOUR_MS, fit, judge, update_noise

DAY_MS = 24 * HOUR_MS
FAULT_SEVERITY = 1
TREND_SEVERITY = 1
RAINFALL_SEVERITY = 1


class PointRulesRunner:
    """Applies one reading at a time to the state of one enterprise, writing transitions to ``book``."""

    def __init__(self, catalog: Catalog, state: EnterpriseState, book: AlarmBook, gap_ms: list[float]) -> None:
        """``gap_ms``: per point, ``OFFLINE_PERIODS`` × its period: a longer gap between two readings breaks its runs."""
        self.catalog, self.state, self.book, self.gap_ms = catalog, state, book, gap_ms

    def reading(self, index: int, ts: float, value: float, fault: str | None, above: int, above_held: int,
                below: int, below_held: int, previous_ts: float) -> None:
        """``above``/``below``: severity breached on that side; ``*_held``: severity still held within the deadband."""
        rules = self.catalog.rules[index]
        pid = rules.entry.id
        gap = ts - previous_ts > self.gap_ms[index]
        if fault is None and rules.stuck_ms is not None and self._stuck(pid, ts, value, rules.stuck_ms):
            fault = "stuck"
        over_range = fault == "over_range"   # §8 fail-safe: a fault, and beyond the worst limit of its side
        if fault is not None:
            self._fault(rules, ts, value, fault, keep_runs=over_range)
            if not over_range:
                return
        else:
            self._recover(rules, ts, value)
        tracks = self.state.tracks
        if rules.levels["above"] and (above_held or (tracks and f"{pid}|above" in tracks)):
            self._limit(rules, "above", ts, value, above, above_held, gap, over_range)
        if rules.levels["below"] and (below_held or (tracks and f"{pid}|below" in tracks)):
            self._limit(rules, "below", ts, value, below, below_held, gap, over_range)
        if over_range:
            return
        if rules.trend:
            self._trend(rules, ts, value)
        if rules.rainfall:
            self._rainfall(rules, ts, value)

    # --- data quality -------------------------------------------------------------------------

    def _stuck(self, pid: str, ts: float, value: float, stuck_ms: float) -> bool:
        changed = self.state.changed.get(pid)
        if changed is None or changed[1] != value:
            self.state.changed[pid] = [ts, value]
            return False
        return ts - changed[0] >= stuck_ms

    def _fault(self, rules: PointRules, ts: float, value: float, reason: str, keep_runs: bool = False) -> None:
        pid = rules.entry.id
        for side in ("above", "below"):
            track = self.state.tracks.get(f"{pid}|{side}")
            if track is not None and not keep_runs:
                track.break_runs()     # the point is unknown: no run survives a faulty reading
        self.state.fault_good_since.pop(pid, None)
        if self.book.is_open(f"offline|{rules.entry.point.device}"):
            return                     # inhibited by the device's offline alarm
        change = Change("fault", f"fault|{pid}", rules.subject, None, FAULT_SEVERITY, int(ts), value, None, reason)
        self.book.apply(change, int(ts), "raised")

    def _recover(self, rules: PointRules, ts: float, value: float) -> None:
        if not self.book.open:
            return
        pid = rules.entry.id
        key = f"fault|{pid}"
        if not self.book.is_open(key):
            return
        since = self.state.fault_good_since.setdefault(pid, ts)
        if ts - since >= rules.entry.limits.confirm_s * 1000.0:
            del self.state.fault_good_since[pid]
            self.book.clear(Change("fault", key, rules.subject, None, FAULT_SEVERITY, int(ts), value))

    # --- limits -------------------------------------------------------------------------------

    def _limit(self, rules: PointRules, side: str, ts: float, value: float, breached: int, held: int, gap: bool,
               over_range: bool) -> None:
        pid = rules.entry.id
        levels = rules.levels[side]
        confirm_ms = rules.entry.limits.confirm_s * 1000.0
        track = self.state.tracks.setdefault(f"{pid}|{side}", LevelTrack())
        if gap:
            track.break_runs()
        for severity in levels:
            k = severity - 1
            if breached >= severity:
                track.since[k] = ts if track.since[k] is None else track.since[k]
                track.armed[k], track.clear_since[k] = True, None
                continue
            track.since[k] = None
            if held >= severity:
                track.clear_since[k] = None
                continue
            start = track.clear_since[k]
            if start is None:
                start = ts
            track.clear_since[k] = start
            if ts - start >= confirm_ms:
                track.armed[k], track.clear_since[k] = False, None
        confirmed = max((s for s in levels if (since := track.since[s - 1]) is not None and ts - since >= confirm_ms), default=0)
        armed = max((s for s in levels if track.armed[s - 1]), default=0)
        key = f"limit|{pid}|{side}"
        current = self.book.open.get(key)
        level = max(confirmed, min(current.severity, armed)) if current else confirmed
        subject = rules.subject
        if rules.entry.point.group is not None:
            self._vote(rules, side, ts, value)
            if current is None and self._group_covers(rules, side, level):
                level = 0   # its group alarm already stands for this hazard at this level
        if level:
            limit = levels[level]
            started = min(s for s in track.since if s is not None) if current is None else current.started_at
            reason = "over_range" if over_range else None
            self.book.apply(Change("limit", key, subject, limit.level, level, int(ts), value, limit.threshold, reason),
                            int(started))
        elif current is not None:
            cleared = levels[current.severity]
            self.book.clear(Change("limit", key, subject, cleared.level, current.severity, int(ts), value, cleared.threshold))
        if track.idle() and not self.book.is_open(key):
            del self.state.tracks[f"{pid}|{side}"]

    def _vote(self, rules: PointRules, side: str, ts: float, value: float) -> None:
        """§8: two or more points of a group beyond a limit confirm one group alarm at once (rule ``vote``,
        ``point`` the group), at the worst level two of them share; it lists the members beyond and their values (by
        name for the texts, by id for the details)."""
        group = rules.entry.point.group
        assert group is not None
        members = self.catalog.groups[group]
        armed = sorted((self._armed(member, side) for member in members), reverse=True)
        level = armed[1] if len(armed) > 1 else 0
        key = f"vote|{group}|{side}"
        subject = self.catalog.group_subject(group)
        values = {m: (value if self.catalog.rules[m] is rules else float(self.state.last_value[m]))
                  for m in members if self._armed(m, side)}
        named, named_en = listed_values([(self.catalog.rules[m].names, v) for m, v in values.items()], subject.unit)
        extra: dict[str, float | str | None] = {"group": group, "members": named, "members_en": named_en,
                                                "points": ", ".join(f"{self.catalog.ids[m]}={v:.6g}" for m, v in values.items())}
        limit = rules.levels[side].get(level)
        if level and limit is not None:
            worst = max(values.values()) if side == "above" else min(values.values())
            self.book.apply(Change("vote", key, subject, limit.level, level, int(ts), worst, limit.threshold, None, extra),
                            int(ts))
        elif level == 0:
            self.book.clear(Change("vote", key, subject, None, 0, int(ts), value, None, None, extra))

    def _armed(self, member: int, side: str) -> int:
        track = self.state.tracks.get(f"{self.catalog.ids[member]}|{side}")
        return max((k + 1 for k, a in enumerate(track.armed) if a), default=0) if track else 0

    def _group_covers(self, rules: PointRules, side: str, level: int) -> bool:
        """One hazard, one alarm: the point's group alarm is open at ``level`` or worse."""
        group = rules.entry.point.group
        alarm = None if group is None else self.book.open.get(f"vote|{group}|{side}")
        return alarm is not None and alarm.severity >= level

    # --- windows: trend and rainfall ----------------------------------------------------------

    def _window(self, pid: str, ts: float, value: float, span_ms: float) -> list[tuple[float, ...]]:
        """The point's readings within ``span_ms`` before ``ts``, as ``(time, value)`` entries.

        A reading closer than ``_slot_ms(span_ms)`` to the newest entry is merged into it (times and
        values summed, with a count), so a window holds a bounded number of entries however often a
        point reports; at the registry's usual periods every reading is its own entry. Entries are
        tuples of floats, which the garbage collector stops tracking: a county's windows would
        otherwise make most of each full collection's work.
        """
        window = self.state.windows.get(pid)
        if window is None:
            window = self.state.windows[pid] = []
        last = window[-1] if window else None
        if last is not None and ts - last[0] / _count(last) < _slot_ms(span_ms):
            window[-1] = (last[0] + ts, last[1] + value, _count(last) + 1)
        else:
            window.append((ts, value))
        while window[0][0] / _count(window[0]) <= ts - span_ms:
            window.pop(0)
        return window

    def _trend(self, rules: PointRules, ts: float, value: float) -> None:
        """§8: a trend warning needs a line clear of the noise, confirmed like a limit for ``confirm_s``."""
        point = rules.entry.point
        span_ms = point.trend_window_s * 1000.0
        window = self._window(point.id, ts, value, span_ms)
        noise = self.state.noise[point.id] = update_noise(self.state.noise.get(point.id), value)
        line = fit(window, ts, span_ms, noise)
        found = None if line is None else judge(line, rules.levels["above"], rules.levels["below"], point.rate_per_h)
        key = f"trend|{point.id}"
        subject = rules.subject
        confirm_ms = rules.entry.limits.confirm_s * 1000.0
        if found is not None:
            self.state.calm_since.pop(point.id, None)
            since = self.state.trend_since.setdefault(point.id, ts)
            if ts - since >= confirm_ms or self.book.is_open(key):
                level, limit, extra = found
                self.book.apply(Change("trend", key, subject, level, TREND_SEVERITY, int(ts), value, limit, None, extra),
                                int(since), "raised")
            return
        self.state.trend_since.pop(point.id, None)
        if self.book.is_open(key):
            calm = self.state.calm_since.setdefault(point.id, ts)
            if ts - calm >= confirm_ms:
                del self.state.calm_since[point.id]
                self.book.clear(Change("trend", key, subject, None, TREND_SEVERITY, int(ts), value))

    def _rainfall(self, rules: PointRules, ts: float, value: float) -> None:
        point = rules.entry.point
        window = self._window(point.id, ts, value, DAY_MS)
        # entries' mean times rise along the window: those within the hour are its tail
        first = len(window)
        while first and (entry := window[first - 1])[0] / _count(entry) > ts - HOUR_MS:
            first -= 1
        totals = (("high_1h", sum(map(itemgetter(1), islice(window, first, None))), rules.entry.limits.high_1h),
                  ("high_24h", sum(map(itemgetter(1), window)), rules.entry.limits.high_24h))
        for name, total, limit in totals:
            assert limit is not None
            key = f"rainfall|{point.id}|{name}"
            if total >= limit:
                self.book.apply(Change("rainfall", key, rules.subject, name, RAINFALL_SEVERITY, int(ts), total, limit), int(ts))
            elif total < limit - rules.entry.limits.deadband and self.book.is_open(key):
                self.book.clear(Change("rainfall", key, rules.subject, name, RAINFALL_SEVERITY, int(ts), total, limit))


# A reading joins the newest window entry while it is within one slot of that entry's mean time:
# span / 240, at most a minute. Entries end up at most two slots wide, so a window keeps at most
# about 240 entries (a day of rainfall: 1 440).
WINDOW_SLOTS = 240
WINDOW_SLOT_MAX_MS = 60_000


def _slot_ms(span_ms: float) -> float:
    slot = span_ms / WINDOW_SLOTS
    return WINDOW_SLOT_MAX_MS if slot >= WINDOW_SLOT_MAX_MS else slot


def _count(entry: tuple[float, ...]) -> float:
    """Readings merged into a window entry ``(time sum, value sum)`` or ``(time sum, value sum, count)``."""
    return entry[2] if len(entry) > 2 else 1.0
