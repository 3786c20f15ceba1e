"""Tailings-pond hydrology: rain events on a site, and the pond's normalised storage they drive.

One site's rain series is shared by its rainfall gauge and its water level, dry beach and
phreatic points, so they move together: rain fills the pond (level up), the beach shrinks as the
level rises, and the phreatic line follows later and slower.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

GRID_S = 60.0                 # resolution of the rain series
EVENTS_PER_DAY = 0.4          # about one rain event every two and a half days
MEAN_EVENT_H = 4.0
MAX_BASELINE_MM_H = 4.0       # baseline rain stays far below the 50 mm/h 暴雨 default, and lifts a pond slowly
POND_TAU_S = 2 * 86400.0      # storage drains with this time constant
PHREATIC_TAU_S = 5 * 86400.0  # the phreatic line lags the pond further
STORAGE_REF_MM = 150.0        # storage (mm of rain) that brings the level to the top of its normal band


@dataclass(frozen=True, slots=True)
class Flood:
    """Injected heavy rain on a site: ``mm_per_h`` from ``start_s`` for ``duration_s``."""

    start_s: float
    duration_s: float
    mm_per_h: float


@dataclass(frozen=True)
class PondState:
    """A site's rain and storage on a uniform grid of ``GRID_S`` seconds from ``t0_s``."""

    t0_s: float
    rain_mm: np.ndarray      # rain fallen in each grid step
    fill: np.ndarray         # normalised storage: 0 dry, 1 top of the normal band, >1 flood
    phreatic_fill: np.ndarray

    def grid(self) -> np.ndarray:
        return self.t0_s + GRID_S * np.arange(len(self.rain_mm) + 1)

    def rain_between(self, start_s: np.ndarray, end_s: np.ndarray) -> np.ndarray:
        """Rain (mm) fallen in each interval [start, end)."""
        cumulative = np.concatenate(([0.0], np.cumsum(self.rain_mm)))
        grid = self.grid()
        return np.interp(end_s, grid, cumulative) - np.interp(start_s, grid, cumulative)

    def fill_at(self, t_s: np.ndarray, lagged: bool = False) -> np.ndarray:
        series = self.phreatic_fill if lagged else self.fill
        return np.interp(t_s, self.grid()[:-1], series)


def _rain_rate(rng: np.random.Generator, steps: int) -> np.ndarray:
    """Baseline rain rate (mm/h) per grid step: Poisson events of random length and intensity."""
    rate = np.zeros(steps)
    days = steps * GRID_S / 86400.0
    for _ in range(rng.poisson(EVENTS_PER_DAY * max(days, 1.0))):
        first = int(rng.integers(0, steps))
        length = max(1, int(rng.exponential(MEAN_EVENT_H) * 3600 / GRID_S))
        rate[first:first + length] += rng.uniform(1.0, MAX_BASELINE_MM_H)
    return np.minimum(rate, MAX_BASELINE_MM_H)


def _drain(inflow: np.ndarray, tau_s: float) -> np.ndarray:
    """Linear reservoir: storage[k] = storage[k-1]·exp(-dt/tau) + inflow[k].

    O(n) in blocks: inside a block of B steps storage = a^j·(a·carry + cumsum(inflow·a^-j)), with
    a^-B kept small (a month on the minute grid takes milliseconds, not the seconds of a convolution).
    """
    decay = np.exp(-GRID_S / tau_s)
    block = max(1, int(tau_s / GRID_S))          # a^-block = e: no overflow, no loss of precision
    powers = decay ** np.arange(block)
    storage = np.empty(len(inflow))
    carry = 0.0
    for start in range(0, len(inflow), block):
        chunk = inflow[start:start + block]
        n = len(chunk)
        storage[start:start + n] = powers[:n] * (decay * carry + np.cumsum(chunk / powers[:n]))
        carry = storage[start + n - 1]
    return storage


def pond_state(rng: np.random.Generator, t0_s: float, duration_s: float, floods: list[Flood]) -> PondState:
    """The site's pond over ``duration_s`` from ``t0_s`` (absolute seconds), with injected floods."""
    steps = int(np.ceil(duration_s / GRID_S)) + 1
    rate = _rain_rate(rng, steps)
    offsets = GRID_S * np.arange(steps)
    for flood in floods:
        rate[(offsets >= flood.start_s) & (offsets < flood.start_s + flood.duration_s)] += flood.mm_per_h
    rain_mm = rate * GRID_S / 3600.0
    # a pond starts part full: the storage left by earlier rain
    initial = rng.uniform(0.2, 0.5) * STORAGE_REF_MM * np.exp(-GRID_S * np.arange(steps) / POND_TAU_S)
    fill = (_drain(rain_mm, POND_TAU_S) + initial) / STORAGE_REF_MM
    # first-order lag of the fill: y[k] = a·y[k-1] + (1-a)·fill[k], starting at fill[0]
    decay = np.exp(-GRID_S / PHREATIC_TAU_S)
    phreatic = (1 - decay) * _drain(fill, PHREATIC_TAU_S) + fill[0] * decay ** np.arange(1, steps + 1)
    return PondState(t0_s, rain_mm, fill, phreatic)
