"""The chart of a point's readings around an alarm (the alarm page's 读数曲线), drawn by the server as one SVG
element: the readings as a line, the point's limits as labelled horizontal lines, the value axis in the
point's unit, the time axis in Beijing time, the alarm's start (and its clearing) marked. No script and
nothing from the internet: the page shows it as an image.

Readings come in time order as ``(ts_ms, value)``; an aggregated window gives each bucket's minimum and
maximum as two readings of the bucket's time, which the line joins, so that a spike stays visible."""

from __future__ import annotations

import math
from dataclasses import dataclass
from html import escape

from hazmon.officer_time import beijing

WIDTH, HEIGHT = 760.0, 320.0
LEFT, RIGHT, TOP, BOTTOM = 64.0, 150.0, 34.0, 46.0      # the plot's margins: value ticks left, limit labels right
MINUTE_MS = 60_000
TIME_STEPS_MIN = (1, 2, 5, 10, 15, 30, 60, 120, 180, 360, 720, 1440)
MAX_TIME_TICKS = 8
VALUE_TICKS = 5
TONES = {"second": "#cf1322", "first": "#d46b08", "red": "#cf1322", "orange": "#fa8c16", "yellow": "#d4b106",
         "blue": "#1677ff", "alarm": "#722ed1"}
WORDS = {"zh": {"time": "北京时间", "started": "报警", "cleared": "恢复", "none": "该时段无读数"},
         "en": {"time": "Beijing time", "started": "raised", "cleared": "cleared", "none": "No readings in this window"}}


@dataclass(frozen=True)
class Limit:
    """One horizontal line: its words (二级报警上限), value, and colour class (a key of :data:`TONES`)."""

    label: str
    value: float
    tone: str


@dataclass(frozen=True)
class Mark:
    """One vertical line at a moment: the alarm's start or clearing."""

    label: str
    ts: int


def nice_step(span: float, ticks: int) -> float:
    """A step of 1, 2 or 5 × 10ⁿ giving about ``ticks`` intervals over ``span``."""
    raw = span / ticks
    power = 10 ** math.floor(math.log10(raw))
    return next(m * power for m in (1, 2, 5, 10) if m * power >= raw)


def value_range(values: list[float]) -> tuple[float, float]:
    """The value axis's ends: every reading and limit inside, padded, on whole steps."""
    low, high = min(values), max(values)
    if high - low < 1e-9:
        low, high = low - max(abs(low) * 0.1, 1.0), high + max(abs(high) * 0.1, 1.0)
    step = nice_step(high - low, VALUE_TICKS)
    return math.floor(low / step - 0.25) * step, math.ceil(high / step + 0.25) * step


def time_ticks(start_ms: int, end_ms: int) -> list[int]:
    """Moments on whole Beijing minutes (a step of :data:`TIME_STEPS_MIN`), at most :data:`MAX_TIME_TICKS`."""
    step_min = next((s for s in TIME_STEPS_MIN if (end_ms - start_ms) / (s * MINUTE_MS) <= MAX_TIME_TICKS),
                    TIME_STEPS_MIN[-1])
    step = step_min * MINUTE_MS
    offset = 8 * 3_600_000     # whole steps of Beijing's clock (UTC+8), not of UTC's
    first = -(-(start_ms + offset) // step) * step - offset
    return list(range(first, end_ms + 1, step))


def _number(value: float) -> str:
    return f"{value:.6g}"


def readings_chart_svg(readings: list[tuple[int, float]], limits: list[Limit], marks: list[Mark], unit: str,
                       title: str, start_ms: int, end_ms: int, language: str) -> str:
    """The chart of ``readings`` over ``[start_ms, end_ms]`` as one ``<svg>`` element."""
    w = WORDS[language]
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    low, high = value_range([v for _, v in readings] + [lim.value for lim in limits] or [0.0])
    span_ms = max(end_ms - start_ms, 1)

    def x(ts: int) -> float:
        return LEFT + plot_w * (min(max(ts, start_ms), end_ms) - start_ms) / span_ms

    def y(value: float) -> float:
        return TOP + plot_h * (high - value) / (high - low)

    parts = [f'<svg xmlns="http://www.w3.org/2000/svg" class="readings-chart" viewBox="0 0 {WIDTH:.0f} {HEIGHT:.0f}" '
             f'width="{WIDTH:.0f}" height="{HEIGHT:.0f}" role="img" aria-label="{escape(title)}" '
             'font-family="Noto Sans CJK SC, Noto Sans SC, sans-serif" font-size="12">',
             f'<rect width="{WIDTH:.0f}" height="{HEIGHT:.0f}" fill="#fff"/>',
             f'<text class="title" x="{LEFT}" y="20" font-size="14" font-weight="bold">{escape(title)}</text>',
             f'<rect x="{LEFT}" y="{TOP}" width="{plot_w}" height="{plot_h}" fill="none" stroke="#c9cdd4"/>']
    step = nice_step(high - low, VALUE_TICKS)
    first = math.ceil(low / step - 1e-9)
    for i in range(first, math.floor(high / step + 1e-9) + 1):
        value = i * step
        parts.append(f'<line x1="{LEFT}" x2="{LEFT + plot_w}" y1="{y(value):.1f}" y2="{y(value):.1f}" stroke="#f0f1f3"/>'
                     f'<text class="value-tick" x="{LEFT - 6}" y="{y(value) + 4:.1f}" text-anchor="end">'
                     f'{_number(round(value, 9))}</text>')
    parts.append(f'<text class="unit" x="{LEFT - 6}" y="20" text-anchor="end">{escape(unit)}</text>')
    ticks = time_ticks(start_ms, end_ms)
    for ts in ticks:
        parts.append(f'<line x1="{x(ts):.1f}" x2="{x(ts):.1f}" y1="{TOP + plot_h}" y2="{TOP + plot_h + 4}" stroke="#86909c"/>'
                     f'<text class="time-tick" x="{x(ts):.1f}" y="{TOP + plot_h + 17}" text-anchor="middle">'
                     f'{beijing(ts).strftime("%H:%M")}</text>')
    day = beijing(start_ms).strftime("%Y-%m-%d")
    parts.append(f'<text class="time-axis" x="{LEFT + plot_w / 2}" y="{HEIGHT - 8}" text-anchor="middle">'
                 f'{w["time"]} {day}</text>')
    for limit in limits:
        colour = TONES[limit.tone]
        parts.append(f'<g class="limit" data-value="{_number(limit.value)}"><line x1="{LEFT}" x2="{LEFT + plot_w}" '
                     f'y1="{y(limit.value):.1f}" y2="{y(limit.value):.1f}" stroke="{colour}" stroke-dasharray="6 4"/>'
                     f'<text x="{LEFT + plot_w + 6}" y="{y(limit.value) + 4:.1f}" fill="{colour}">'
                     f'{escape(limit.label)} {_number(limit.value)} {escape(unit)}</text></g>')
    for mark in marks:
        parts.append(f'<g class="mark"><line x1="{x(mark.ts):.1f}" x2="{x(mark.ts):.1f}" y1="{TOP}" y2="{TOP + plot_h}" '
                     f'stroke="#4e5969" stroke-dasharray="2 3"/><text x="{x(mark.ts) + 3:.1f}" y="{TOP + 12}" '
                     f'fill="#4e5969">{escape(mark.label)}</text></g>')
    if readings:
        line = " ".join(f"{x(ts):.1f},{y(v):.1f}" for ts, v in readings)
        parts.append(f'<polyline class="readings" points="{line}" fill="none" stroke="#1f3a5f" stroke-width="1.6"/>')
    else:
        parts.append(f'<text class="no-readings" x="{LEFT + plot_w / 2}" y="{TOP + plot_h / 2}" text-anchor="middle" '
                     f'fill="#86909c">{w["none"]}</text>')
    return "".join(parts) + "</svg>"
