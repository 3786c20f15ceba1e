"""The alarm page's chart as drawn: Beijing-time ticks on whole minutes of Beijing's clock, a value axis that holds
every reading and limit, limits labelled with their unit, words instead of a blank chart when nothing was read."""

from __future__ import annotations

import re

from alerting.desk.chart import Limit, Mark, readings_chart_svg, time_ticks, value_range

T0 = 1_764_376_800_000   # 2025-11-29T00:40:00Z, 08:40 in Beijing


def test_time_ticks_fall_on_whole_beijing_minutes() -> None:
    ticks = time_ticks(T0 - 30 * 60_000 + 7_000, T0 + 15 * 60_000)     # 45 min: every 10 min
    assert [(t - T0) // 60_000 for t in ticks] == [-20, -10, 0, 10]
    day = time_ticks(T0, T0 + 86_400_000)                               # a day: every 180 min, on 09:00 Beijing
    assert (day[0] - T0) // 60_000 == 20 and len(day) <= 8


def test_the_value_axis_holds_readings_and_limits() -> None:
    low, high = value_range([8.0, 9.6, 10.5, 9.0])
    assert low < 8.0 and high > 10.5
    flat_low, flat_high = value_range([5.0])                            # one value: a range around it, not zero
    assert flat_low < 5.0 < flat_high


def test_the_chart_in_words_and_units() -> None:
    readings = [(T0 - 60_000, 8.5), (T0, 9.2), (T0 + 60_000, 9.6)]
    svg = readings_chart_svg(readings, [Limit("一级报警上限", 9.0, "first"), Limit("二级报警上限", 10.5, "second")],
                             [Mark("报警", T0)], "m", "储罐液位（1号储罐区）<x>", T0 - 1_800_000, T0 + 900_000, "zh")
    assert "一级报警上限 9 m" in svg and "二级报警上限 10.5 m" in svg and "北京时间 2025-11-29" in svg
    assert ">08:40<" in svg and ">08:10<" in svg and "&lt;x&gt;" in svg and "<x>" not in svg
    points = [tuple(map(float, p.split(","))) for p in re.search(r'points="([^"]+)"', svg).group(1).split()]
    limit_y = float(re.search(r'data-value="9"><line [^>]*y1="([\d.]+)"', svg).group(1))
    assert len(points) == 3 and points[0][1] > limit_y > points[2][1]     # 8.5 under the 9 m line, 9.6 above it
    assert points[0][0] < points[1][0] < points[2][0]


def test_no_readings_is_said() -> None:
    svg = readings_chart_svg([], [], [], "MPa", "压力", T0, T0 + 3_600_000, "zh")
    assert "该时段无读数" in svg and "<polyline" not in svg
