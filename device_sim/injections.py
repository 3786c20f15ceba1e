"""Value injections of a scenario applied to one point's sampled readings (numpy, whole arrays)."""

from __future__ import annotations

import numpy as np

from hazmon.registry.loader import PointEntry

from device_sim.scenario import BadQuality, Leak, OutOfRange, Ramp, Spike, Step, Stuck

ValueInjection = Ramp | Step | Spike | Leak | Stuck | OutOfRange | BadQuality
QUALITY_CODES = {"good": 0, "uncertain": 1, "bad": 2}


def _window(t_s: np.ndarray, start: float, duration: float | None) -> np.ndarray:
    end = np.inf if duration is None else start + duration
    return (t_s >= start) & (t_s < end)


def _first(values: np.ndarray, mask: np.ndarray) -> float:
    return float(values[mask][0]) if mask.any() else 0.0


def apply_injection(injection: ValueInjection, entry: PointEntry, t_s: np.ndarray, values: np.ndarray,
                    quality: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """New (values, quality codes) of a point sampled at scenario seconds ``t_s`` after ``injection``."""
    match injection:
        case Ramp(at_s=at, over_s=over, to=target, until_s=until):
            mask = _window(t_s, at, None if until is None else until - at)
            before = values[t_s < at]   # continue from the last value before the ramp, so ramps chain
            start = float(before[-1]) if len(before) else _first(values, mask)
            return np.where(mask, start + (target - start) * np.clip((t_s - at) / over, 0, 1), values), quality
        case Step(at_s=at, value=value, duration_s=duration) | Spike(at_s=at, value=value, duration_s=duration):
            return np.where(_window(t_s, at, duration), value, values), quality
        case Leak(at_s=at, peak=peak, rise_s=rise, hold_s=hold, decay_s=decay):
            since = t_s - at
            plume = np.where(since < rise, since / rise, np.exp(-np.clip(since - rise - hold, 0, None) / decay))
            return np.where(since >= 0, values + peak * plume, values), quality
        case Stuck(at_s=at, duration_s=duration, value=value):
            mask = _window(t_s, at, duration)
            return np.where(mask, _first(values, mask) if value is None else value, values), quality
        case OutOfRange(at_s=at, duration_s=duration, side=side):
            low, high = entry.point.range or (0.0, 1.0)
            outside = high + 0.1 * (high - low) if side == "above" else low - 0.1 * (high - low)
            return np.where(_window(t_s, at, duration), outside, values), quality
        case BadQuality(at_s=at, duration_s=duration, q=q, value=value):
            mask = _window(t_s, at, duration)
            new_values = values if value is None else np.where(mask, value, values)
            return new_values, np.where(mask, QUALITY_CODES[q], quality)
    raise TypeError(f"not a value injection: {injection!r}")
