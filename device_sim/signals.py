"""Signal models: the undisturbed value of every sensor type of data standard §7, vectorised.

Each model maps sample times (absolute seconds) to values inside the point's *normal band*: the
part of its ``range`` clear of every limit by a margin, so a county left alone raises no alarm and
every alarm a scenario expects comes from what the scenario injects. Noise and resolution are per
type (:data:`SENSOR_PROFILES`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

from hazmon.registry.loader import PointEntry
from hazmon.registry.models import PointType

from device_sim.hydrology import PondState

DAY_S = 86400.0
TANK_CYCLE_S = 8 * 3600.0       # a tank fills and empties three times a day
PUMP_CYCLE_S = 1800.0           # process pump on/off cycle
JOCKEY_CYCLE_S = 6 * 3600.0     # fire main bleeds down until the jockey pump starts
PLUME_PEAK = (10 / 11) * (1 / 11) ** 0.1   # peak of (1 - e^(-t/60))·e^(-t/600), at e^(-t/60) = 1/11
EDGE_MARGIN = 0.02              # fraction of the range kept clear of its ends
LIMIT_MARGIN = 0.1              # fraction of the room below (above) a limit kept clear of it


@dataclass(frozen=True, slots=True)
class SensorProfile:
    noise: float        # standard deviation, as a fraction of the normal band's width
    resolution: float   # smallest step the sensor reports, in the point's unit


SENSOR_PROFILES: dict[PointType, SensorProfile] = {
    PointType.TANK_LEVEL: SensorProfile(0.002, 0.001),
    PointType.TEMPERATURE: SensorProfile(0.005, 0.1),
    PointType.PRESSURE: SensorProfile(0.005, 0.001),
    PointType.COMBUSTIBLE_GAS: SensorProfile(0.0, 0.1),
    PointType.TOXIC_GAS: SensorProfile(0.0, 0.1),
    PointType.WATER_LEVEL: SensorProfile(0.0002, 0.01),
    PointType.DRY_BEACH_LENGTH: SensorProfile(0.002, 0.1),
    PointType.PHREATIC_DEPTH: SensorProfile(0.002, 0.01),
    PointType.DISPLACEMENT: SensorProfile(0.001, 0.1),
    PointType.RAINFALL: SensorProfile(0.0, 0.1),
    PointType.HYDRANT_PRESSURE: SensorProfile(0.005, 0.001),
    PointType.SPRINKLER_PRESSURE: SensorProfile(0.005, 0.001),
    PointType.WATER_TANK_LEVEL: SensorProfile(0.002, 0.01),
    PointType.RESIDUAL_CURRENT: SensorProfile(0.01, 1.0),
    PointType.CABLE_TEMPERATURE: SensorProfile(0.005, 0.1),
}


@dataclass(frozen=True)
class SignalInput:
    """What a model needs: sample times, the point's normal band, its random stream, its pond."""

    t_s: np.ndarray
    lo: float
    hi: float
    period_s: float
    rng: np.random.Generator
    pond: PondState | None

    @property
    def width(self) -> float:
        return self.hi - self.lo

    def at(self, fraction: np.ndarray | float) -> np.ndarray:
        """Values at ``fraction`` of the band (0 = lo, 1 = hi)."""
        return self.lo + self.width * np.asarray(fraction, dtype=float)

    def phase(self, cycle_s: float) -> np.ndarray:
        """Position in a cycle (0..1), with a per-point random offset."""
        return ((self.t_s + self.rng.uniform(0, cycle_s)) % cycle_s) / cycle_s


def normal_band(entry: PointEntry) -> tuple[float, float]:
    """The part of the point's range clear of every limit: 2 % in from the range ends, and from each
    limit by 10 % of the room that limit leaves (at least twice the deadband)."""
    low, high = entry.point.range or (0.0, 1.0)
    edge_lo, edge_hi = low + EDGE_MARGIN * (high - low), high - EDGE_MARGIN * (high - low)
    lo, hi = edge_lo, edge_hi
    clearance = 2 * entry.limits.deadband
    for limit in entry.limits.limits:
        if limit.direction == "above":
            hi = min(hi, limit.threshold - max(clearance, LIMIT_MARGIN * (limit.threshold - edge_lo)))
        else:
            lo = max(lo, limit.threshold + max(clearance, LIMIT_MARGIN * (edge_hi - limit.threshold)))
    if hi <= lo:
        raise ValueError(f"point {entry.id}: no room between its limits for a normal value ({lo} ≥ {hi})")
    return lo, hi


def daily(signal: SignalInput, peak_hour: float = 15.0) -> np.ndarray:
    """Daily cycle between -1 (night) and 1 (peak hour, local time UTC+8)."""
    hours = ((signal.t_s / 3600.0) + 8.0) % 24.0
    return np.cos(2 * np.pi * (hours - peak_hour) / 24.0)


def tank_level(signal: SignalInput) -> np.ndarray:
    """Fill and empty in cycles: a triangle between 20 % and 80 % of the band."""
    triangle = 1 - np.abs(2 * signal.phase(TANK_CYCLE_S) - 1)
    return signal.at(0.2 + 0.6 * triangle)


def temperature(signal: SignalInput) -> np.ndarray:
    """Daily cycle around the band's middle, ±20 % of it."""
    return signal.at(0.5 + 0.2 * daily(signal))


def pressure(signal: SignalInput) -> np.ndarray:
    """Pump cycles: pressure rises while the pump runs and relaxes when it stops (smoothed square wave)."""
    running = np.tanh(8 * np.sin(2 * np.pi * signal.phase(PUMP_CYCLE_S)))
    return signal.at(0.5 + 0.25 * running)


def gas(signal: SignalInput) -> np.ndarray:
    """Near zero with sensor noise; about once a day a small plume that rises in a minute and decays
    over ten, peaking at 10–40 % of the band's top, so it stays below the first limit."""
    t = signal.t_s
    value = np.abs(signal.rng.normal(0.0, 0.02 * signal.hi, len(t)))
    days = max((t[-1] - t[0]) / DAY_S, 1.0)
    for start in signal.rng.uniform(t[0], t[-1], signal.rng.poisson(days)):
        since = np.clip(t - start, 0.0, None)
        plume = (1 - np.exp(-since / 60.0)) * np.exp(-since / 600.0) / PLUME_PEAK
        value = value + signal.rng.uniform(0.1, 0.4) * signal.hi * plume
    return value


def _pond(signal: SignalInput) -> PondState:
    if signal.pond is None:
        raise ValueError("tailings-pond types need the site's pond state")
    return signal.pond


def water_level(signal: SignalInput) -> np.ndarray:
    """Rises with the pond's storage over the band's top tenth (a few metres; baseline rain lifts it
    ~0.08 m/h at most, well under the usual 0.3 m/h trend limit even with sensor noise); at storage 1
    it reaches the top of the band, beyond it a flood."""
    return signal.at(0.9 + 0.1 * _pond(signal).fill_at(signal.t_s))


def dry_beach_length(signal: SignalInput) -> np.ndarray:
    """Shrinks as the water level rises."""
    return signal.at(0.3 * (1 - _pond(signal).fill_at(signal.t_s)))


def phreatic_depth(signal: SignalInput) -> np.ndarray:
    """The phreatic line rises (its depth shrinks) after the pond, lagged."""
    return signal.at(0.3 * (1 - _pond(signal).fill_at(signal.t_s, lagged=True)))


def displacement(signal: SignalInput) -> np.ndarray:
    """Slow creep: from 10 % of the band, a few percent of it per week."""
    rate = signal.rng.uniform(0.01, 0.04) * signal.width / (7 * DAY_S)
    return signal.at(0.1) + rate * (signal.t_s - signal.t_s[:1])


def rainfall(signal: SignalInput) -> np.ndarray:
    """Rain (mm) in each report interval, from the site's rain series."""
    return _pond(signal).rain_between(signal.t_s - signal.period_s, signal.t_s)


def fire_main_pressure(signal: SignalInput) -> np.ndarray:
    """Hydrant / sprinkler mains: bleed down slowly until the jockey pump starts and restores them."""
    return signal.at(0.75 - 0.35 * signal.phase(JOCKEY_CYCLE_S))


def water_tank_level(signal: SignalInput) -> np.ndarray:
    """Fire water tank: nearly full, drawn down a little by day and topped up at night."""
    return signal.at(0.85 + 0.1 * daily(signal, peak_hour=3.0))


def residual_current(signal: SignalInput) -> np.ndarray:
    """Leakage current drifts with the building's load: higher by day, plus a slow random drift."""
    drift = np.cumsum(signal.rng.normal(0.0, 1.0, len(signal.t_s)))
    drift = 0.05 * drift / max(float(np.abs(drift).max()), 1.0)
    return signal.at(0.3 + 0.15 * daily(signal, peak_hour=14.0) + drift)


def cable_temperature(signal: SignalInput) -> np.ndarray:
    """Ambient daily cycle plus heating under the day's load."""
    return signal.at(0.45 + 0.15 * daily(signal) + 0.1 * np.clip(daily(signal, peak_hour=14.0), 0, None))


MODELS: dict[PointType, Callable[[SignalInput], np.ndarray]] = {
    PointType.TANK_LEVEL: tank_level,
    PointType.TEMPERATURE: temperature,
    PointType.PRESSURE: pressure,
    PointType.COMBUSTIBLE_GAS: gas,
    PointType.TOXIC_GAS: gas,
    PointType.WATER_LEVEL: water_level,
    PointType.DRY_BEACH_LENGTH: dry_beach_length,
    PointType.PHREATIC_DEPTH: phreatic_depth,
    PointType.DISPLACEMENT: displacement,
    PointType.RAINFALL: rainfall,
    PointType.HYDRANT_PRESSURE: fire_main_pressure,
    PointType.SPRINKLER_PRESSURE: fire_main_pressure,
    PointType.WATER_TANK_LEVEL: water_tank_level,
    PointType.RESIDUAL_CURRENT: residual_current,
    PointType.CABLE_TEMPERATURE: cable_temperature,
}


def signal(entry: PointEntry, t_s: np.ndarray, rng: np.random.Generator, pond: PondState | None) -> np.ndarray:
    """The point's undisturbed readings at ``t_s``: model, sensor noise, resolution, clipped to its range."""
    lo, hi = normal_band(entry)
    model_input = SignalInput(t_s, lo, hi, entry.point.period_s, rng, pond)
    value = MODELS[entry.point.type](model_input)
    profile = SENSOR_PROFILES[entry.point.type]
    if profile.noise:
        value = value + rng.normal(0.0, profile.noise * (hi - lo), len(t_s))
    value = np.round(value / profile.resolution) * profile.resolution
    low, high = entry.point.range or (lo, hi)
    return np.clip(value, low, high)
