"""Field noise: what real sensors of every §7 type add to the undisturbed signal, chunk by chunk.

The shipped signal models (``device_sim.signals``) keep their noise small; field sensors do not.
:class:`FieldSignal` gives one point's readings over any slice of a long run, with per-type noise
of the size seen on site (:data:`FIELD_NOISE`): GNSS displacement ~0.5–1 mm with rare multipath
outliers (never two in a row), water-level ripple ~2 cm, gas detectors' zero noise and slow zero
drift, rain showers on top of the site's rain but kept under the 1 h and 24 h 暴雨 lines, and so
on. None of it breaches a limit, so by data standard §8 noise raises nothing, ever.

Chunks are consistent: a point's phases, drift and rain are drawn once per point, its noise per
(point, chunk), so the same seed gives the same values however the run is sliced into days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazmon.registry.loader import PointEntry
from hazmon.registry.models import PointType

from device_sim.hydrology import PondState
from device_sim.signals import MODELS, SENSOR_PROFILES, SignalInput, normal_band
from device_sim.stream import rng_for

DAY_S = 86400.0
WEEK_S = 7 * DAY_S
RAIN_1H_CAP_MM = 12.0        # a gauge's rain is scaled so the rolling 1 h sum stays under this (line: 16 mm)
RAIN_24H_CAP_MM = 40.0       # and the rolling 24 h sum under this (line: 50 mm)
SHOWERS_PER_DAY = 1.5
OUTLIER_P = 0.005            # share of GNSS readings hit by multipath
OUTLIER_MM = (5.0, 15.0)     # multipath outlier size (either sign)
GAS_ZERO_NOISE = 0.013       # σ of a gas detector's zero, as a fraction of its normal band's top (~0.3 %LEL)
GAS_DRIFT = 0.05             # amplitude of its slow zero drift (periods 1–4 days), same fraction (~1.1 %LEL)
GAS_PLUMES_PER_DAY = 1.0


@dataclass(frozen=True, slots=True)
class FieldNoise:
    """White noise σ in the point's unit (the shipped models' own noise is left out)."""

    sigma: float


FIELD_NOISE: dict[PointType, FieldNoise] = {
    PointType.TANK_LEVEL: FieldNoise(0.003),          # radar gauge, 3 mm
    PointType.TEMPERATURE: FieldNoise(0.1),
    PointType.PRESSURE: FieldNoise(0.002),
    PointType.WATER_LEVEL: FieldNoise(0.02),          # ripple on the pond, 2 cm
    PointType.DRY_BEACH_LENGTH: FieldNoise(0.3),
    PointType.PHREATIC_DEPTH: FieldNoise(0.02),
    PointType.HYDRANT_PRESSURE: FieldNoise(0.005),
    PointType.SPRINKLER_PRESSURE: FieldNoise(0.005),
    PointType.WATER_TANK_LEVEL: FieldNoise(0.005),
    PointType.RESIDUAL_CURRENT: FieldNoise(3.0),
    PointType.CABLE_TEMPERATURE: FieldNoise(0.2),
}


def slow_wave(rng: np.random.Generator, t_s: np.ndarray, periods_s: tuple[float, float], parts: int = 3) -> np.ndarray:
    """A smooth drift in [-1, 1]: a sum of ``parts`` sines of random periods and phases (drawn from ``rng``)."""
    periods = rng.uniform(*periods_s, parts)
    phases = rng.uniform(0, 2 * np.pi, parts)
    return np.sin(2 * np.pi * t_s[:, None] / periods + phases).sum(axis=1) / parts


class FieldSignal:
    """One point's field readings at any sample times of a run that starts at ``t0_s`` (absolute seconds)."""

    def __init__(self, entry: PointEntry, seed: int, t0_s: float, duration_s: float, pond: PondState | None) -> None:
        self.entry, self.seed, self.t0_s, self.pond = entry, seed, t0_s, pond
        self.kind = entry.point.type
        self.lo, self.hi = normal_band(entry)
        params = rng_for(seed, entry.enterprise, entry.id, "field")
        self.gnss_sigma = float(params.uniform(0.5, 1.0))
        self.creep_per_s = float(params.uniform(0.2, 1.0)) / WEEK_S          # a stable dam: < 1 mm a week
        self.rain = self._rain(duration_s) if self.kind is PointType.RAINFALL else None

    def values(self, t_s: np.ndarray, chunk: int) -> np.ndarray:
        """Readings at absolute seconds ``t_s`` (one chunk of the run, numbered ``chunk``), rounded and in range."""
        noise = rng_for(self.seed, self.entry.enterprise, self.entry.id, f"noise-{chunk}")
        match self.kind:
            case PointType.COMBUSTIBLE_GAS | PointType.TOXIC_GAS:
                value = self._gas(t_s, noise)
            case PointType.DISPLACEMENT:
                value = self._displacement(t_s, noise)
            case PointType.RAINFALL:
                assert self.rain is not None
                index = np.round((t_s - self.t0_s) / self.entry.point.period_s).astype(np.int64)
                value = self.rain[np.clip(index, 0, len(self.rain) - 1)]
            case PointType.RESIDUAL_CURRENT:
                drift = slow_wave(rng_for(self.seed, self.entry.enterprise, self.entry.id, "drift"), t_s, (2 * DAY_S, 9 * DAY_S))
                value = self._model(t_s) + 0.05 * (self.hi - self.lo) * drift
                value = value + noise.normal(0.0, FIELD_NOISE[self.kind].sigma, len(t_s))
            case _:
                value = self._model(t_s) + noise.normal(0.0, FIELD_NOISE[self.kind].sigma, len(t_s))
        resolution = SENSOR_PROFILES[self.kind].resolution
        low, high = self.entry.point.range or (self.lo, self.hi)
        return np.clip(np.round(value / resolution) * resolution, low, high)

    def _model(self, t_s: np.ndarray) -> np.ndarray:
        """The shipped model, its phases from a stream of their own (the same in every chunk)."""
        phases = rng_for(self.seed, self.entry.enterprise, self.entry.id, "phase")
        return MODELS[self.kind](SignalInput(t_s, self.lo, self.hi, self.entry.point.period_s, phases, self.pond))

    def _gas(self, t_s: np.ndarray, noise: np.random.Generator) -> np.ndarray:
        """Zero offset, slow zero drift, zero noise, and about one small plume a day (rises in a minute,
        decays over ten, peaks at 10–35 % of the normal band's top)."""
        drift_rng = rng_for(self.seed, self.entry.enterprise, self.entry.id, "drift")
        offset = drift_rng.uniform(0.0, 0.04) * self.hi
        value = offset + GAS_DRIFT * self.hi * (1 + slow_wave(drift_rng, t_s, (DAY_S, 4 * DAY_S))) / 2
        value = value + noise.normal(0.0, GAS_ZERO_NOISE * self.hi, len(t_s))
        if len(t_s):
            span = max(float(t_s[-1] - t_s[0]) - 7200.0, 0.0)
            for start in t_s[0] + noise.uniform(0, span, noise.poisson(GAS_PLUMES_PER_DAY * span / DAY_S)):
                since = np.clip(t_s - start, 0.0, None)
                value = value + noise.uniform(0.1, 0.35) * self.hi * (1 - np.exp(-since / 60.0)) * np.exp(-since / 600.0)
        return value

    def _displacement(self, t_s: np.ndarray, noise: np.random.Generator) -> np.ndarray:
        """A stable dam: 10 % up the band, creeping < 1 mm a week; GNSS noise and multipath outliers."""
        value = self.lo + 0.1 * (self.hi - self.lo) + self.creep_per_s * (t_s - self.t0_s)
        value = value + noise.normal(0.0, self.gnss_sigma, len(t_s))
        hit = noise.random(len(t_s)) < OUTLIER_P
        hit[1:] &= ~hit[:-1]        # multipath hits single epochs: never two readings in a row
        sizes = noise.uniform(*OUTLIER_MM, len(t_s)) * noise.choice((-1.0, 1.0), len(t_s))
        return value + np.where(hit, sizes, 0.0)

    def _rain(self, duration_s: float) -> np.ndarray:
        """Rain (mm) per report interval over the whole run: the site's rain plus showers, scaled down
        wherever a rolling 1 h or 24 h sum would come near its line (a long steady rain can too)."""
        assert self.pond is not None
        period = self.entry.point.period_s
        ends = self.t0_s + period * np.arange(int(np.ceil(duration_s / period)) + 1)
        base = self.pond.rain_between(ends - period, ends)
        rng = rng_for(self.seed, self.entry.enterprise, self.entry.id, "showers")
        showers = np.zeros(len(ends))
        for _ in range(rng.poisson(SHOWERS_PER_DAY * max(duration_s / DAY_S, 1.0))):
            first = int(rng.integers(0, len(ends)))
            steps = max(1, int(rng.uniform(900, 3600) / period))
            showers[first:first + steps] += rng.uniform(3.0, 10.0) / steps
        per_hour, per_day = max(1, int(3600 / period)), max(1, int(DAY_S / period))
        total = base + showers
        for _ in range(40):
            over = np.maximum(_rolling_sum(total, per_hour) / RAIN_1H_CAP_MM, _rolling_sum(total, per_day) / RAIN_24H_CAP_MM)
            if over.max() <= 1.0:
                break
            total = np.where(_max_ahead(over, per_day) > 1.0, total * 0.8, total)
        return np.floor(total / 0.1) * 0.1


def _rolling_sum(values: np.ndarray, n: int) -> np.ndarray:
    """Sum of the last ``n`` values at each index (fewer at the start)."""
    cumulative = np.concatenate(([0.0], np.cumsum(values)))
    ends = np.arange(1, len(values) + 1)
    return cumulative[ends] - cumulative[np.maximum(ends - n, 0)]


def _max_ahead(values: np.ndarray, n: int) -> np.ndarray:
    """Largest of the next ``n`` values (this one included) at each index."""
    padded = np.concatenate((values, np.zeros(n - 1)))
    return np.lib.stride_tricks.sliding_window_view(padded, n).max(axis=1)
