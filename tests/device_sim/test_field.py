"""The field-conditions county (device_sim.field, field_feed, field_signals): each condition produces
what it claims, noise stays as stated and breaches no limit, and the plan is reproducible."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest

from hazmon.registry import Registry, load_registry
from hazmon.registry.models import PointType

from device_sim.county import write_county
from device_sim.field import (DAY_S, OUTAGE_S, PLATFORM, SKEWS_S, Condition, FieldCounty, field_county,
                              telemetry_devices)
from device_sim.field_feed import LATENCY_S, Step, feed

ENTERPRISES, DAYS, SEED = 9, 2.0, 3


@dataclass
class Series:
    """One point's readings as the platform received them."""

    ts: np.ndarray
    values: np.ndarray
    recv: np.ndarray


def county_registry(directory: Path, enterprises: int, seed: int) -> Registry:
    write_county(directory, enterprises, seed)
    return load_registry(directory)


@pytest.fixture(scope="module")
def county(tmp_path_factory: pytest.TempPathFactory) -> FieldCounty:
    return field_county(county_registry(tmp_path_factory.mktemp("county"), ENTERPRISES, SEED), DAYS, SEED)


@pytest.fixture(scope="module")
def steps(county: FieldCounty) -> list[Step]:
    return list(feed(county, batch_s=30.0))


@pytest.fixture(scope="module")
def series(steps: list[Step]) -> dict[tuple[str, str], Series]:
    rows: dict[tuple[str, str], list[tuple[int, float, int]]] = defaultdict(list)
    for step in steps:
        for record in step.readings:
            for point, ts, value in zip(record["points"], record["ts"], record["values"]):
                rows[(record["enterprise"], point)].append((ts, value, record["recv_ms"]))
    out = {}
    for key, items in rows.items():
        items.sort()
        array = np.array(items, dtype=np.float64)
        out[key] = Series(array[:, 0], array[:, 1], array[:, 2])
    return out


def of_kind(county: FieldCounty, kind: str) -> list[Condition]:
    found = [c for c in county.conditions if c.kind == kind]
    assert found, f"the test county has no {kind}"
    return found


def run_ms(county: FieldCounty, seconds: float) -> float:
    return county.start_ms + seconds * 1000


def test_every_condition_is_planned_with_its_truth(county: FieldCounty) -> None:
    kinds = {c.kind for c in county.conditions}
    assert kinds == {"beach_step", "displacement_trend", "gas_pinned", "gas_leak", "dead_channel", "device_offline",
                     "fire", "backfill", "outage"}
    truths = {(t.condition, t.rule, t.required) for t in county.truths}
    assert ("gas_pinned", "limit", True) in truths and ("gas_pinned", "fault", True) in truths
    assert ("gas_leak", "vote", True) in truths and ("dead_channel", "fault", True) in truths
    assert ("outage", PLATFORM, True) in truths and ("backfill", "offline", False) in truths
    assert not any(t.rule == "offline" and t.required and t.condition != "device_offline" for t in county.truths)
    leak = [t for t in county.truths if t.condition == "gas_leak"]
    assert all(t.point is not None and t.point.endswith("-ZONE-A") and t.level == "high_high" for t in leak)


def test_the_plan_and_the_feed_are_reproducible(county: FieldCounty, steps: list[Step]) -> None:
    again = field_county(county.registry, DAYS, SEED)
    assert again.conditions == county.conditions and again.truths == county.truths
    first = next(iter(feed(again, batch_s=30.0)))
    assert first == steps[0]
    other = field_county(county.registry, DAYS, SEED + 1)
    assert other.conditions != county.conditions


def test_all_four_clock_skews_are_used_on_a_county_of_30(tmp_path: Path) -> None:
    planned = field_county(county_registry(tmp_path, 30, 1), 1.0, 1)
    assert set(planned.skews_s.values()) == set(SKEWS_S)


def test_a_skewed_gateway_stamps_its_readings_off_by_its_skew(county: FieldCounty, steps: list[Step]) -> None:
    assert county.skews_s
    for (enterprise, device), skew in county.skews_s.items():
        ahead = [max(r["ts"]) - r["recv_ms"] for s in steps for r in s.readings
                 if (r["enterprise"], r["device"]) == (enterprise, device)]
        assert np.median(ahead) == pytest.approx((skew - LATENCY_S) * 1000, abs=1)


def test_the_backfill_gateway_uploads_its_hour_after_its_siblings(county: FieldCounty, steps: list[Step]) -> None:
    for c in of_kind(county, "backfill"):
        devices = telemetry_devices(county.registry, c.enterprise)
        lost, back = run_ms(county, c.start_s), run_ms(county, c.end_s)
        arrivals: dict[str, list[int]] = defaultdict(list)
        for step in steps:
            for r in step.readings:
                skew = county.skews_s.get((r["enterprise"], r["device"]), 0.0) * 1000
                if r["enterprise"] == c.enterprise and any(lost <= ts - skew < back for ts in r["ts"]):
                    arrivals[r["device"]].append(r["recv_ms"])
        assert set(arrivals) == set(devices)             # every gateway's hour arrives, nothing lost
        siblings = [a for d, a in arrivals.items() if d != c.device]
        assert all(min(a) >= back for a in arrivals.values())
        assert min(arrivals[c.device]) > max(max(a) for a in siblings)


def test_nothing_arrives_during_a_county_outage_and_its_backlog_follows(county: FieldCounty, steps: list[Step],
                                                                        series: dict[tuple[str, str], Series]) -> None:
    for start, end in county.outages:
        assert end - start == OUTAGE_S
        lo, hi = run_ms(county, start), run_ms(county, end)
        assert not [r for s in steps for r in s.readings if lo <= r["recv_ms"] < hi]
        assert not [s for s in steps if lo < s.now_ms - 30_000 and s.now_ms < hi]
        backlog = [x for x in series.values() for ts, recv in zip(x.ts, x.recv) if lo <= ts < hi and recv >= hi]
        assert backlog


def test_a_dead_channel_is_silent_while_its_device_goes_on(county: FieldCounty, series: dict[tuple[str, str], Series]) -> None:
    for c in of_kind(county, "dead_channel"):
        lo, hi = run_ms(county, c.start_s), run_ms(county, c.end_s)
        skew = county.skews_s.get((c.enterprise, c.device or ""), 0.0) * 1000
        dead = series[(c.enterprise, c.points[0])]
        assert not ((dead.ts - skew >= lo) & (dead.ts - skew < hi)).any()
        assert (dead.ts - skew >= hi).any() or hi >= run_ms(county, county.duration_s)
        siblings = [e.id for e in county.registry.devices(c.enterprise)[c.device or ""]
                    if e.id != c.points[0] and e.point.type is not PointType.FIRE_DETECTOR]
        for point in siblings:
            alive = series[(c.enterprise, point)]
            assert ((alive.ts - skew >= lo) & (alive.ts - skew < hi)).sum() >= (hi - lo) / 1000 / alive_period(county, c.enterprise, point) - 2


def alive_period(county: FieldCounty, enterprise: str, point: str) -> float:
    entry = county.registry.point(enterprise, point)
    assert entry is not None
    return entry.point.period_s


def test_a_dropped_gateway_sends_nothing_and_its_will_and_reconnect_arrive(county: FieldCounty, steps: list[Step]) -> None:
    for c in of_kind(county, "device_offline"):
        lo, hi = run_ms(county, c.start_s), run_ms(county, c.end_s)
        sent = [ts for s in steps for r in s.readings if (r["enterprise"], r["device"]) == (c.enterprise, c.device)
                for ts in r["ts"] if lo <= ts < hi]
        assert not sent
        statuses = [(x["ts"], x["online"]) for s in steps for x in s.statuses
                    if (x["enterprise"], x["device"]) == (c.enterprise, c.device) and x["ts"] > county.start_ms]
        assert statuses == [(int(lo), False), (int(hi), True)]


def test_a_pinned_detector_reads_above_full_scale(county: FieldCounty, series: dict[tuple[str, str], Series]) -> None:
    for c in of_kind(county, "gas_pinned"):
        entry = county.registry.point(c.enterprise, c.points[0])
        assert entry is not None and entry.point.range is not None
        x = series[(c.enterprise, c.points[0])]
        skew = county.skews_s.get((c.enterprise, c.device or ""), 0.0) * 1000
        inside = (x.ts - skew >= run_ms(county, c.start_s)) & (x.ts - skew < run_ms(county, c.end_s))
        assert inside.sum() == (c.end_s - c.start_s) / entry.point.period_s
        assert (x.values[inside] == entry.point.range[1] + 0.5).all()
        assert (x.values[~inside] <= entry.point.range[1]).all()


def test_a_leak_puts_two_detectors_of_the_group_beyond_high_high(county: FieldCounty,
                                                                series: dict[tuple[str, str], Series]) -> None:
    for c in of_kind(county, "gas_leak"):
        peaks = []
        for point in c.points:
            x = series[(c.enterprise, point)]
            inside = (x.ts >= run_ms(county, c.start_s) - 300_000) & (x.ts < run_ms(county, c.end_s) + 300_000)
            peaks.append(x.values[inside].max())
        assert min(peaks[:2]) >= 55 and max(peaks[2:], default=0) < 25


def test_a_step_is_a_step_and_a_trend_a_trend(county: FieldCounty, series: dict[tuple[str, str], Series]) -> None:
    for c in of_kind(county, "beach_step"):
        x = series[(c.enterprise, c.points[0])]
        skew = county.skews_s.get((c.enterprise, c.device or ""), 0.0) * 1000
        inside = (x.ts - skew >= run_ms(county, c.start_s)) & (x.ts - skew < run_ms(county, c.end_s))
        assert np.abs(x.values[inside] - c.value).max() < 2.0
        before = x.values[(x.ts - skew < run_ms(county, c.start_s))][-1]
        assert before - c.value > 10
    for c in of_kind(county, "displacement_trend"):
        x = series[(c.enterprise, c.points[0])]
        skew = county.skews_s.get((c.enterprise, c.device or ""), 0.0) * 1000
        inside = (x.ts - skew >= run_ms(county, c.start_s)) & (x.ts - skew <= run_ms(county, c.end_s))
        slope_per_h = np.polyfit((x.ts[inside] - x.ts[inside][0]) / 3.6e6, x.values[inside], 1)[0]
        assert slope_per_h == pytest.approx(c.value, abs=2.5)


def test_noise_is_as_stated(county: FieldCounty, series: dict[tuple[str, str], Series]) -> None:
    near = sorted(county.water_near_flood)
    assert near
    for enterprise, point in near:
        entry = county.registry.point(enterprise, point)
        assert entry is not None and entry.site.design is not None
        values = series[(enterprise, point)].values
        assert values.mean() == pytest.approx(entry.site.design.flood_level - 0.2, abs=0.01)
        assert 0.012 < values.std() < 0.03
    trends = {(c.enterprise, c.points[0]) for c in county.conditions if c.kind == "displacement_trend"}
    gnss = [k for k in series if k[1].startswith("WK01_DS") and k not in trends]
    assert gnss
    for key in gnss:
        x = series[key]
        residual = x.values - np.polyval(np.polyfit(x.ts, x.values, 1), x.ts)
        outliers = np.abs(residual) > 4.0
        assert 0.4 < residual[~outliers].std() < 1.1                      # GNSS ~0.5–1 mm
        assert outliers.mean() < 0.02 and not (outliers[1:] & outliers[:-1]).any()
    gas = [k for k in series if county.registry.point(*k).point.type is PointType.COMBUSTIBLE_GAS]  # type: ignore[union-attr]
    quiet = [k for k in gas if not any(c.enterprise == k[0] and k[1] in c.points for c in county.conditions)]
    assert quiet
    for key in quiet:
        values = series[key].values
        assert values.min() >= 0 and np.percentile(values, 50) < 3.0 and 0.1 < np.diff(values).std() < 1.0


def test_rain_stays_under_the_1h_and_24h_lines(county: FieldCounty, series: dict[tuple[str, str], Series]) -> None:
    rain = [k for k in series if k[1].endswith("_RAIN")]
    assert rain
    for key in rain:
        values = series[key].values
        per_hour = np.convolve(values, np.ones(12))[: len(values)]
        per_day = np.convolve(values, np.ones(288))[: len(values)]
        assert per_hour.max() < 16 and per_day.max() < 50
        assert values.sum() > 0


def test_noise_breaches_no_limit_outside_the_conditions(county: FieldCounty,
                                                        series: dict[tuple[str, str], Series]) -> None:
    """The truth says noise raises nothing: so outside a value condition no two readings in a row are beyond a
    limit (a single one, a multipath outlier, lasts no time: §8 confirms a run of at least confirm_s)."""
    touched = {(c.enterprise, p) for c in county.conditions if c.kind in ("beach_step", "gas_pinned", "gas_leak")
               for p in c.points}
    checked = 0
    for key, x in series.items():
        entry = county.registry.point(*key)
        assert entry is not None
        if key in touched or not entry.limits.limits or entry.limits.form == "rainfall":
            continue
        low, high = entry.point.range or (-np.inf, np.inf)
        assert ((x.values >= low) & (x.values <= high)).all(), key
        for limit in entry.limits.limits:
            beyond = x.values >= limit.threshold if limit.direction == "above" else x.values <= limit.threshold
            # one reading beyond lasts no time (a multipath outlier): two in a row would span confirm_s or more
            assert not (beyond[1:] & beyond[:-1]).any(), (key, limit)
            assert beyond.mean() < 0.01, (key, limit)
        checked += 1
    assert checked > 100


def test_every_day_of_the_run_is_fed(county: FieldCounty, steps: list[Step]) -> None:
    assert steps[-1].now_ms >= run_ms(county, county.duration_s - 60)
    assert all(a.now_ms < b.now_ms for a, b in zip(steps, steps[1:]))
    assert county.point_days() == pytest.approx(sum(e.point.enabled for e in county.registry) * DAYS)
    assert DAY_S * DAYS == county.duration_s
