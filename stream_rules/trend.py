"""Trend warnings (趋势预警, §8 rev 1.1): a least-squares line over a point's window, judged only on
evidence that stands clear of the readings' own noise.

A window's entries are ``(time sum, value sum)`` or ``(time sum, value sum, count)`` (readings merged
into one entry, see ``point_rules``). The line is fitted to the entries' mean times and values,
weighted by their counts; its slope's 95 % confidence interval uses Student's t with the entries'
degrees of freedom (merged readings count once: the cautious side). A trend needs at least 4
entries spanning two thirds of the window, a line that fits better than a single step (a step
change is not a trend), and a confidence interval wholly above ``rate_per_h`` toward the point's
limits, or wholly among the slopes that reach the next limit within 30 minutes from the fitted
line's value now.

The readings' own noise is the larger of two estimates: the line's residuals (few degrees of
freedom: six readings of a 10-minute point in its one-hour window scatter close to a line by chance
far too often, and a county has hundreds of thousands of such windows a month) and the point's
long-run noise (``update_noise``), from the second differences of successive readings (a steady
trend adds nothing to them), clipped so that a multipath outlier does not inflate it for long. A
trend is judged only once that history holds ``NOISE_WARM_UP`` differences. The one reading of a
window furthest from its line is set aside when it lies more than 4 long-run σ off it (a GNSS
multipath outlier), so that it neither hides a real trend nor, alone, makes one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from hazmon.registry.limits import Limit

HOUR_MS = 3_600_000.0
HORIZON_MS = 30 * 60 * 1000.0   # §8: the next limit predicted within 30 min
MIN_ENTRIES = 4
MIN_SPAN = 2.0 / 3.0
# Student's t, two-sided 95 % (0.975 quantile), by degrees of freedom; beyond the table 1.96
T_975 = (12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.160, 2.145, 2.131,
         2.120, 2.110, 2.101, 2.093, 2.086, 2.080, 2.074, 2.069, 2.064, 2.060, 2.056, 2.052, 2.048, 2.045, 2.042)
T_975_LARGE = ((40, 2.021), (60, 2.000), (120, 1.980))
NOISE_DOF = 30        # the long-run noise is known about as well as from 30 readings
NOISE_WARM_UP = 8     # successive differences seen before a trend is judged
NOISE_MEMORY = 32     # the long-run estimate follows about this many differences
NOISE_CLIP = 3.0      # a difference counts at most 3 × the estimate (an outlier moves it little)
OUTLIER_SIGMAS = 4.0  # the window's worst reading, this far off its line by the long-run noise, is set aside
# white noise σ: x[i+1] − 2 x[i] + x[i−1] has σ√6, and its mean absolute value is σ√6 √(2/π)
SECOND_DIFF_TO_SIGMA = float(1.0 / (np.sqrt(6.0) * np.sqrt(2.0 / np.pi)))


def t_975(dof: int) -> float:
    if dof <= len(T_975):
        return T_975[dof - 1]
    return next((t for limit, t in T_975_LARGE if dof <= limit), 1.960)


@dataclass(frozen=True, slots=True)
class Line:
    """A fitted line: slope (units per ms) with its 95 % interval, and the fitted value at the window's end."""

    slope: float
    low: float
    high: float
    value_now: float


def update_noise(noise: list[float] | None, value: float) -> list[float]:
    """The long-run noise record ``[mean |Δ²|, second differences seen, value before last, last value]``
    after one more reading (``noise`` is updated in place; a new record for the first reading)."""
    if noise is None:
        return [0.0, -1.0, value, value]
    mean, seen, before, last = noise
    if seen < 0:                       # the second reading: no second difference yet
        noise[:] = 0.0, 0.0, last, value
        return noise
    diff = abs(value - 2.0 * last + before)
    if seen and mean > 0:
        diff = min(diff, NOISE_CLIP * mean)
    mean += (diff - mean) / min(seen + 1.0, NOISE_MEMORY)
    noise[:] = mean, seen + 1.0, last, value
    return noise


def fit(window: list[tuple[float, ...]], now_ms: float, span_ms: float, noise: list[float]) -> Line | None:
    """The window's line, or None without enough evidence for one (too few, too short, too little
    noise history, a step, no spread)."""
    if len(window) < MIN_ENTRIES or noise[1] < NOISE_WARM_UP:
        return None
    first = window[0]
    if now_ms - first[0] / (first[2] if len(first) > 2 else 1.0) < MIN_SPAN * span_ms:
        return None
    n = len(window)
    weight = np.fromiter((e[2] if len(e) > 2 else 1.0 for e in window), dtype=np.float64, count=n)
    t = np.fromiter((e[0] for e in window), dtype=np.float64, count=n) / weight
    v = np.fromiter((e[1] for e in window), dtype=np.float64, count=n) / weight
    long_run = (noise[0] * SECOND_DIFF_TO_SIGMA) ** 2
    line = _least_squares(t, v, weight)
    if line is None:
        return None
    worst = int(np.argmax(np.abs(line[4])))
    if len(t) > MIN_ENTRIES and abs(line[4][worst]) > OUTLIER_SIGMAS * np.sqrt(long_run):
        keep = np.arange(len(t)) != worst   # one multipath-like outlier does not hide a trend, nor make one
        t, v, weight = t[keep], v[keep], weight[keep]
        line = _least_squares(t, v, weight)
        if line is None:
            return None
    slope, t_mean, v_mean, sxx, residual = line
    rss = float((weight * residual * residual).sum())
    if _step_rss(weight, v) < rss:
        return None   # two flat levels explain the window better than a line: a step, not a trend
    dof = len(t) - 2
    variance = rss / dof
    quantile = t_975(dof) if variance >= long_run else t_975(NOISE_DOF)
    half = quantile * np.sqrt(max(variance, long_run) / sxx)
    return Line(float(slope), float(slope - half), float(slope + half), float(v_mean + slope * (now_ms - t_mean)))


def _least_squares(t: np.ndarray, v: np.ndarray, weight: np.ndarray
                   ) -> tuple[float, float, float, float, np.ndarray] | None:
    """(slope, mean time, mean value, Sxx, residuals) of the weighted line, or None when the times do not spread."""
    total = weight.sum()
    t_mean, v_mean = (weight * t).sum() / total, (weight * v).sum() / total
    dt = t - t_mean
    sxx = float((weight * dt * dt).sum())
    if sxx <= 0:
        return None
    slope = float((weight * dt * (v - v_mean)).sum() / sxx)
    return slope, float(t_mean), float(v_mean), sxx, v - (v_mean + slope * dt)


def _step_rss(weight: np.ndarray, v: np.ndarray) -> float:
    """Smallest residual sum of squares of two flat levels split at one point in time."""
    w_cum, wv_cum, wvv_cum = np.cumsum(weight), np.cumsum(weight * v), np.cumsum(weight * v * v)
    left_w, left_wv, left_wvv = w_cum[:-1], wv_cum[:-1], wvv_cum[:-1]
    right_w, right_wv, right_wvv = w_cum[-1] - left_w, wv_cum[-1] - left_wv, wvv_cum[-1] - left_wvv
    rss = (left_wvv - left_wv ** 2 / left_w) + (right_wvv - right_wv ** 2 / right_w)
    return float(rss.min())


def judge(line: Line, above: dict[int, Limit], below: dict[int, Limit], rate_per_h: float | None
          ) -> tuple[str | None, float | None, dict[str, float | str | None]] | None:
    """(next level, its threshold, extra) when the line is a trend per §8, else None."""
    extra: dict[str, float | str | None] = {"slope_per_h": round(line.slope * HOUR_MS, 6)}
    ahead = [lim for lim in above.values() if lim.threshold > line.value_now] if line.slope > 0 else \
            [lim for lim in below.values() if lim.threshold < line.value_now] if line.slope < 0 else []
    nearest = min(ahead, key=lambda lim: abs(lim.threshold - line.value_now), default=None)
    if nearest is not None:   # the time to the next limit on the fitted line is part of every trend (§8)
        distance = abs(nearest.threshold - line.value_now)
        needed = distance / HORIZON_MS
        extra["time_to_limit_s"] = round(distance / abs(line.slope) / 1000.0, 1)
        extra["next_level"] = nearest.level
        if (line.low >= needed) if line.slope > 0 else (line.high <= -needed):
            return nearest.level, nearest.threshold, extra
    if rate_per_h is None:
        return None
    rate = rate_per_h / HOUR_MS
    sides = [side for side, limits in (("above", above), ("below", below)) if limits]
    if sides == ["above"]:
        clear = line.low > rate
    elif sides == ["below"]:
        clear = line.high < -rate
    else:
        clear = line.low > rate or line.high < -rate
    if clear:
        extra["rate_per_h"] = rate_per_h
        return None, rate_per_h, extra
    return None
