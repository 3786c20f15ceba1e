"""The ground truth held against what was really played: the run's messages regenerated from the
simulator's start, judged by device_sim's truth oracle and, where it has no reading of §8, by a
plain one here: a tailings pond's roll-up, a trend warning by the time to the next limit, and a
fire alarm controller zone's ``fault`` event (the oracle judges faults from readings only).

Also what a scenario disturbs at all (anything else must stay silent) and what the devices sent.
"""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from device_sim.scenario import DEVICE_INJECTIONS, Flood, Scenario
from device_sim.stream import ScenarioRun, generate
from hazmon.registry import Registry
from hazmon.registry.limits import COLOR_ORDER
from hazmon.registry.loader import PointEntry
from tests.device_sim.truth_oracle import HOUR_MS, Series, alarm_times, faulty, limit_confirmations, point_series
from tests.e2e.runs import Truth

TREND_HORIZON_H = 0.5   # §8: a slope that reaches the next limit within 30 min


def played(scenario: Scenario, registry: Registry, start_ms: int, speed: float, whole_county: bool) -> ScenarioRun:
    """What the simulator sent from ``start_ms``, each message with what the platform must do with it.

    With time warp device time lags real time, so a reading stamped more than 5 min ahead of device
    time is not ahead of the platform's clock and is accepted (docs/device_sim.md, ``clock_skew``).
    """
    run = generate(scenario, registry, start_ms, whole_county)
    if speed > 1:
        run.messages = [replace(m, refusal=None) if m.refusal == "bad_ts" else m for m in run.messages]
    return run


def only(run: ScenarioRun, enterprises: list[str]) -> ScenarioRun:
    return ScenarioRun(run.scenario, run.start_ms, [m for m in run.messages if m.enterprise in enterprises])


def truth_problems(registry: Registry, run: ScenarioRun, truth: Truth) -> list[str]:
    """Expected alarms the played readings do not call for inside their window, forbidden ones they do."""
    series = point_series(run)
    problems = []
    for alarm in truth.expect:
        low, high = alarm.window_ms(run.start_ms)
        if not any(low <= t <= high for t in called_for(registry, run, series, alarm)):
            problems.append(f"expected {alarm} is not called for by the readings played")
    for alarm in truth.forbid:
        low, high = alarm.window_ms(run.start_ms)
        if any(low <= t <= high for t in called_for(registry, run, series, alarm)):
            problems.append(f"forbidden {alarm} is called for by the readings played")
    return problems


def called_for(registry: Registry, run: ScenarioRun, series: dict[tuple[str, str], Series], alarm) -> list[int]:
    """Reading times (epoch ms) at which the played messages call for ``alarm`` (an ExpectedAlarm)."""
    if alarm.rule == "rollup":
        return rollup_times(registry, series, alarm.enterprise, alarm.point, alarm.level)
    entry = registry.point(alarm.enterprise, alarm.point) if alarm.point else None
    if alarm.rule == "trend" and entry is not None and entry.point.rate_per_h is None:
        return time_to_limit_times(entry, series[(alarm.enterprise, alarm.point)], alarm.level)
    if alarm.rule == "fault" and entry is not None and entry.limits.form == "events":
        return [m.at_ms for m in run.messages if m.refusal is None and m.enterprise == alarm.enterprise
                and m.event and m.event[:2] == (alarm.point, "fault")]
    return alarm_times(registry, run, alarm)


def colours(registry: Registry, entry: PointEntry, s: Series) -> np.ndarray:
    """The point's colour (1 blue … 4 red, 0 none) at each of its readings: the worst colour confirmed
    (every reading beyond it for confirm_s) whose readings have stayed beyond it since."""
    result = np.zeros(len(s.ts), dtype=int)
    for limit in entry.limits.limits:
        beyond = np.array([limit.breached(v) for v in s.values]) & ~faulty(registry, entry.enterprise, entry.id, s)
        for confirmed in limit_confirmations(registry, entry.enterprise, entry.id, s, limit.level):
            first = int(np.searchsorted(s.ts, confirmed))
            inside = np.flatnonzero(~beyond[first:])
            last = first + int(inside[0]) if len(inside) else len(s.ts)
            result[first:last] = np.maximum(result[first:last], limit.severity)
    return result


def gb39496(members: list[int]) -> int:
    """GB 39496-2020 §5.5.4 in §8's words: 2 at orange or worse make red, 3 at yellow orange, 4 at blue yellow."""
    at_least = {colour: sum(1 for m in members if m >= colour) for colour in (1, 2, 3)}
    return 4 if at_least[3] >= 2 else 3 if at_least[2] >= 3 else 2 if at_least[1] >= 4 else 0


def rollup_times(registry: Registry, series: dict[tuple[str, str], Series], enterprise: str, site: str,
                 level: str | None) -> list[int]:
    """Reading times at which the pond ``site`` rolls up to a colour worse than its worst point (of ``level``)."""
    entries = [e for e in registry if e.enterprise == enterprise and e.site.id == site and e.limits.form == "colors"
               and (enterprise, e.id) in series]
    steps = {e.id: (series[(enterprise, e.id)].ts, colours(registry, e, series[(enterprise, e.id)])) for e in entries}
    times = sorted({int(t) for ts, _ in steps.values() for t in ts})
    result = []
    for t in times:
        items: dict[str, list[int]] = {}
        for e in entries:
            ts, colour = steps[e.id]
            index = int(np.searchsorted(ts, t, side="right")) - 1
            items.setdefault(e.point.type.value, []).append(int(colour[index]) if index >= 0 else 0)
        item_colours = [max(max(points), gb39496(points)) for points in items.values()]
        pond = max(max(item_colours, default=0), gb39496(item_colours))
        if pond > max((max(points) for points in items.values()), default=0) and level in (None, COLOR_ORDER[pond - 1]):
            result.append(t)
    return result


def time_to_limit_times(entry: PointEntry, s: Series, level: str | None) -> list[int]:
    """Reading times at which the least-squares slope over ``trend_window_s`` reaches the point's next
    limit (the mildest one not yet reached, ``level`` if given) within 30 min, on the evidence §8 rev 1.1
    asks at the least: 4 readings spanning two thirds of the window."""
    window_ms = entry.point.trend_window_s * 1000
    result = []
    for index, now in enumerate(s.ts):
        recent = (s.ts > now - window_ms) & (s.ts <= now)
        ahead = [limit for limit in entry.limits.limits if not limit.breached(s.values[index])]
        if recent.sum() < 4 or now - s.ts[recent][0] < window_ms * 2 / 3 or not ahead:
            continue
        per_hour = np.polyfit((s.ts[recent] - now) / HOUR_MS, s.values[recent], 1)[0]
        target = min(ahead, key=lambda limit: limit.severity)
        hours = (target.threshold - s.values[index]) / per_hour if per_hour else np.inf
        if 0 < hours <= TREND_HORIZON_H and level in (None, target.level):
            result.append(int(now))
    return result


def disturbed(registry: Registry, scenario: Scenario) -> set[tuple[str, str]]:
    """(enterprise, point, device, site or group) that the scenario's injections touch: a point's device,
    site and voting group with it (a group alarm's point is the group, §8), every point of a disturbed
    device, every point of a flooded site. Nothing else may alarm."""
    entries = [e for e in registry if e.enterprise in scenario.enterprises]
    touched: set[tuple[str, str]] = set()
    for injection in scenario.injections:
        if isinstance(injection, Flood):
            hit = [e for e in entries if e.enterprise == injection.enterprise and e.site.id == injection.site]
        elif isinstance(injection, DEVICE_INJECTIONS):
            hit = [e for e in entries if e.enterprise == injection.enterprise and e.point.device == injection.device]
        else:
            hit = [e for e in entries if e.enterprise == injection.enterprise and e.id == injection.point]
        touched |= {(e.enterprise, name) for e in hit for name in (e.id, e.point.device, e.site.id, e.point.group) if name}
    return touched


def readings_sent(run: ScenarioRun) -> tuple[int, int, int]:
    """(readings the devices publish, readings the platform accepts, distinct (enterprise, point, time) of those)."""
    accepted = [(m.enterprise, r.point, r.ts_ms) for m in run.messages if m.refusal is None for r in m.readings]
    return sum(len(m.readings) for m in run.messages), len(accepted), len(set(accepted))
