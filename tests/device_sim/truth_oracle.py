"""A deliberately plain reading of data standard §8, used only to check that each shipped scenario's
stated ground truth follows from the readings it generates (not a rule engine: no state, no clears)."""

from __future__ import annotations

from collections import defaultdict

import numpy as np

from hazmon.registry import Registry
from hazmon.registry.loader import PointEntry

from device_sim import ExpectedAlarm, ScenarioRun

HOUR_MS = 3_600_000


class Series:
    """One point's accepted readings, sorted by reading time."""

    def __init__(self, rows: list[tuple[int, float, int]]) -> None:
        rows.sort()
        self.ts = np.array([r[0] for r in rows], dtype=np.int64)
        self.values = np.array([r[1] for r in rows])
        self.q = np.array([r[2] for r in rows])


def point_series(run: ScenarioRun) -> dict[tuple[str, str], Series]:
    rows: dict[tuple[str, str], list[tuple[int, float, int]]] = defaultdict(list)
    for batch in run.readings():
        for point, ts, value, q in zip(batch["points"], batch["ts"], batch["values"], batch["q"]):
            rows[(batch["enterprise"], point)].append((ts, value, q))
    return {key: Series(value) for key, value in rows.items()}


def faulty(registry: Registry, enterprise: str, point: str, series: Series) -> np.ndarray:
    """Readings outside the range, flagged bad, or (where ``stuck_s`` is set) unchanged for ``stuck_s``."""
    settings = registry.point(enterprise, point).point  # type: ignore[union-attr]
    low, high = settings.range  # type: ignore[misc]
    bad = (series.values < low) | (series.values > high) | (series.q == 2)
    return bad if settings.stuck_s is None else bad | stuck(series, settings.stuck_s)


def stuck(series: Series, stuck_s: float) -> np.ndarray:
    """Readings at which the value has been the same for at least ``stuck_s`` of reading time."""
    out = np.zeros(len(series.ts), dtype=bool)
    since = None
    for i, (ts, value) in enumerate(zip(series.ts, series.values)):
        if i == 0 or value != series.values[i - 1]:
            since = ts
        out[i] = ts - since >= stuck_s * 1000
    return out


def limit_confirmations(registry: Registry, enterprise: str, point: str, series: Series, level: str | None) -> list[int]:
    """Reading times at which a run of good readings beyond the limit first lasted confirm_s."""
    entry = registry.point(enterprise, point)
    assert entry is not None
    bad = faulty(registry, enterprise, point, series)
    confirmed = []
    for limit in entry.limits.limits:
        if level is not None and limit.level != level:
            continue
        beyond = np.array([limit.breached(v) for v in series.values]) & ~bad
        run_start = None
        for ts, is_beyond in zip(series.ts, beyond):
            if not is_beyond:
                run_start = None
                continue
            if run_start is None:
                run_start, done = ts, False
            if not done and ts - run_start >= entry.limits.confirm_s * 1000:
                confirmed.append(int(ts))
                done = True
    return confirmed


def vote_times(registry: Registry, run: ScenarioRun, enterprise: str, group: str, level: str | None) -> list[int]:
    """Reading times at which two or more points of ``group`` (a vote alarm's point, §8) were beyond the limit together."""
    members = [e.id for e in registry if e.enterprise == enterprise and e.point.group == group]
    series = point_series(run)
    times = sorted({int(t) for m in members for t in series[(enterprise, m)].ts})
    result = []
    for ts in times:
        beyond = 0
        for member in members:
            s = series[(enterprise, member)]
            index = np.searchsorted(s.ts, ts, side="right") - 1
            limits = [lim for lim in registry.point(enterprise, member).limits.limits if level in (None, lim.level)]  # type: ignore[union-attr]
            beyond += index >= 0 and any(lim.breached(s.values[index]) for lim in limits)
        if beyond >= 2:
            result.append(ts)
    return result


def alarm_times(registry: Registry, run: ScenarioRun, alarm: ExpectedAlarm) -> list[int]:
    """Times (epoch ms) at which the readings and messages of ``run`` call for ``alarm``."""
    series = point_series(run)
    points = [alarm.point] if alarm.point else [e.id for e in registry.devices(alarm.enterprise)[alarm.device or ""]
                                                if (alarm.enterprise, e.id) in series]
    times: list[int] = []
    for point in points:
        s = series.get((alarm.enterprise, point))
        if alarm.rule == "limit" and s is not None:
            times += limit_confirmations(registry, alarm.enterprise, point, s, alarm.level)
        elif alarm.rule == "fault" and s is not None:
            times += [int(t) for t in s.ts[faulty(registry, alarm.enterprise, point, s)]]
        elif alarm.rule == "vote":
            times += vote_times(registry, run, alarm.enterprise, point, alarm.level)
        elif alarm.rule == "trend" and s is not None:
            times += trend_times(registry.point(alarm.enterprise, point), s)  # type: ignore[arg-type]
        elif alarm.rule == "rainfall" and s is not None:
            limit = registry.point(alarm.enterprise, point).limits.high_1h  # type: ignore[union-attr]
            hourly = [s.values[(s.ts > t - HOUR_MS) & (s.ts <= t)].sum() for t in s.ts]
            times += [int(t) for t, total in zip(s.ts, hourly) if total >= limit]
    if alarm.rule == "fire":
        times += [m.at_ms for m in run.messages if m.event and m.event[:2] == (alarm.point, "fire")]
    if alarm.rule == "offline":
        times += [m.at_ms for m in run.messages if m.kind == "drop" and m.device == alarm.device]
        times += silences(registry, run, alarm.enterprise, alarm.device or "")
    return times


def trend_times(entry: PointEntry, series: Series) -> list[int]:
    """Reading times at which the least-squares slope over the trend window exceeded rate_per_h."""
    rate, window_ms = entry.point.rate_per_h, entry.point.trend_window_s * 1000
    result = []
    for ts in series.ts:
        inside = (series.ts > ts - window_ms) & (series.ts <= ts)
        if rate is not None and inside.sum() >= 2:
            slope_per_ms = np.polyfit(series.ts[inside] - ts, series.values[inside], 1)[0]
            if abs(slope_per_ms) * HOUR_MS > rate:
                result.append(int(ts))
    return result


def silences(registry: Registry, run: ScenarioRun, enterprise: str, device: str) -> list[int]:
    """Arrival times at which a point of the device had sent nothing for 3 × period_s."""
    result = []
    for entry in registry.devices(enterprise)[device]:
        arrivals = np.array([m.at_ms for m in run.messages if m.refusal is None and m.enterprise == enterprise
                             and any(r.point == entry.id for r in m.readings)], dtype=np.int64)
        if len(arrivals) > 1:
            gaps = np.diff(arrivals)
            result += [int(t) for t in arrivals[1:][gaps > 3 * entry.point.period_s * 1000]]
    return result
