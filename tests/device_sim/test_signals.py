"""Each signal model over a simulated week: physically in range, clear of every limit, and with the
statistics its model states (mean, spread, cycle) within the tolerances given here."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from hazmon.registry import PointType, Registry, load_registry
from hazmon.registry.loader import PointEntry

from device_sim import hydrology
from device_sim.county import write_county
from device_sim.signals import normal_band, signal
from device_sim.stream import rng_for

from tests.device_sim.conftest import START_MS
from tests.device_sim.truth_oracle import Series, trend_times

WEEK_S = 7 * 86400.0
# type → (cycle in seconds or None, mean as a fraction of the normal band, tolerance of that fraction)
STATED: dict[PointType, tuple[float | None, float | None, float]] = {
    PointType.TANK_LEVEL: (8 * 3600.0, 0.5, 0.03),
    PointType.TEMPERATURE: (86400.0, 0.5, 0.03),
    PointType.PRESSURE: (1800.0, 0.5, 0.03),
    PointType.HYDRANT_PRESSURE: (6 * 3600.0, 0.575, 0.03),
    PointType.SPRINKLER_PRESSURE: (6 * 3600.0, 0.575, 0.03),
    PointType.WATER_TANK_LEVEL: (86400.0, 0.85, 0.03),
    PointType.RESIDUAL_CURRENT: (86400.0, 0.3, 0.06),
    PointType.CABLE_TEMPERATURE: (86400.0, 0.45 + 0.1 / np.pi, 0.03),
}


def week_of(entry: PointEntry, seed: int = 1) -> tuple[np.ndarray, np.ndarray]:
    t_s = START_MS / 1000 + np.arange(0.0, WEEK_S, entry.point.period_s)
    pond = hydrology.pond_state(rng_for(seed, entry.enterprise, entry.site.id), START_MS / 1000, WEEK_S, [])
    return t_s, signal(entry, t_s, rng_for(seed, entry.enterprise, entry.id), pond)


def entries(registry: Registry) -> list[PointEntry]:
    seen: dict[PointType, PointEntry] = {}
    for entry in registry:
        if entry.point.type is not PointType.FIRE_DETECTOR:
            seen.setdefault(entry.point.type, entry)
    return list(seen.values())


def dominant_period(t_s: np.ndarray, values: np.ndarray) -> float:
    spectrum = np.abs(np.fft.rfft(values - values.mean()))
    frequencies = np.fft.rfftfreq(len(values), d=float(t_s[1] - t_s[0]))
    return float(1 / frequencies[1:][np.argmax(spectrum[1:])])


def test_every_measured_type_has_a_model(sample_registry: Registry) -> None:
    assert {e.point.type for e in entries(sample_registry)} == set(PointType) - {PointType.FIRE_DETECTOR}


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_a_week_stays_in_range_and_raises_nothing(sample_registry: Registry, seed: int) -> None:
    for entry in entries(sample_registry):
        _, values = week_of(entry, seed)
        low, high = entry.point.range  # type: ignore[misc]
        assert np.isfinite(values).all() and values.min() >= low and values.max() <= high, entry.id
        for limit in entry.limits.limits:
            assert not any(limit.breached(v) for v in values), f"{entry.id} reaches {limit.level} in a quiet week"


@pytest.mark.parametrize("point_type", list(STATED), ids=str)
def test_mean_and_cycle(sample_registry: Registry, point_type: PointType) -> None:
    entry = next(e for e in entries(sample_registry) if e.point.type is point_type)
    t_s, values = week_of(entry)
    cycle, mean_fraction, tolerance = STATED[point_type]
    lo, hi = normal_band(entry)
    assert abs((values.mean() - lo) / (hi - lo) - mean_fraction) <= tolerance
    assert dominant_period(t_s, values) == pytest.approx(cycle, rel=0.05)


def test_temperature_swings_by_day(sample_registry: Registry) -> None:
    entry = next(e for e in entries(sample_registry) if e.point.type is PointType.TEMPERATURE)
    _, values = week_of(entry)
    lo, hi = normal_band(entry)
    # ±20 % of the band as a cosine: standard deviation 0.2/√2 of the band, plus a little sensor noise
    assert values.std() / (hi - lo) == pytest.approx(0.2 / np.sqrt(2), rel=0.1)


def test_gas_sits_near_zero_with_rare_plumes(sample_registry: Registry) -> None:
    for point_type in (PointType.COMBUSTIBLE_GAS, PointType.TOXIC_GAS):
        entry = next(e for e in entries(sample_registry) if e.point.type is point_type)
        _, values = week_of(entry)
        first_limit = min(lim.threshold for lim in entry.limits.limits)
        assert np.median(values) < 0.05 * first_limit
        assert values.max() > 4 * np.median(values) + entry.point.range[0]  # type: ignore[index]
        assert (values > 0.1 * first_limit).mean() < 0.1   # plumes are short


def test_tailings_points_move_together(sample_registry: Registry) -> None:
    def site_series(point_type: PointType) -> np.ndarray:
        entry = next(e for e in entries(sample_registry) if e.point.type is point_type)
        t_s = START_MS / 1000 + np.arange(0.0, WEEK_S, 600.0)
        pond = hydrology.pond_state(rng_for(5, entry.enterprise, entry.site.id), START_MS / 1000, WEEK_S, [])
        return signal(entry, t_s, rng_for(5, entry.enterprise, entry.id), pond)

    level, beach, depth = (site_series(t) for t in
                           (PointType.WATER_LEVEL, PointType.DRY_BEACH_LENGTH, PointType.PHREATIC_DEPTH))
    assert np.corrcoef(level, beach)[0, 1] < -0.9      # the beach shrinks as the level rises
    assert np.corrcoef(level, depth)[0, 1] < 0         # the phreatic line rises (depth falls) after it
    lag_corr = [np.corrcoef(level[: len(level) - k], depth[k:])[0, 1] for k in (0, 36)]
    assert lag_corr[1] < lag_corr[0]                   # … and lags it: better matched six hours later


def test_rain_comes_in_events(sample_registry: Registry) -> None:
    entry = next(e for e in entries(sample_registry) if e.point.type is PointType.RAINFALL)
    _, values = week_of(entry, seed=4)
    wet = values > 0
    assert 0.01 < wet.mean() < 0.5
    assert values.max() <= hydrology.MAX_BASELINE_MM_H * entry.point.period_s / 3600 + 1e-9


def test_displacement_creeps(sample_registry: Registry) -> None:
    entry = next(e for e in entries(sample_registry) if e.point.type is PointType.DISPLACEMENT)
    t_s, values = week_of(entry)
    slope, _ = np.polyfit(t_s - t_s[0], values, 1)
    lo, hi = normal_band(entry)
    assert 0.005 * (hi - lo) < slope * WEEK_S < 0.05 * (hi - lo)


def test_quiet_weeks_of_generated_ponds_raise_no_trend(tmp_path: Path) -> None:
    """Baseline rain lifts a pond, but never as fast as its rate_per_h: the e2e county's quiet ponds
    (their ids, so their random streams, new in every run) must stay clear of trend warnings."""
    write_county(tmp_path, 40, seed=5)
    registry = load_registry(tmp_path)
    trended = [e for e in registry if e.point.rate_per_h is not None]
    assert len({e.enterprise for e in trended}) >= 5
    steep = []
    for seed in (1, 2, 3):
        for entry in trended:
            t_s, values = week_of(entry, seed)
            series = Series([(int(t * 1000), float(v), 0) for t, v in zip(t_s, values)])
            steep += [(seed, entry.enterprise, entry.id, t) for t in trend_times(entry, series)]
    assert not steep, f"{len(steep)} trend warnings in quiet weeks, first {steep[:3]}"
