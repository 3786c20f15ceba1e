"""The alarm page's chart (``/desk/alarms/{id}/readings.svg``): the alarm's point's readings from InfluxDB from
half an hour before the alarm to half an hour after it cleared (or now), with the point's limits in words,
its unit and Beijing time (:mod:`alerting.desk.chart` draws it). Scoped like the API: an alarm the account
may not see is as missing as an unknown one; an alarm with no point of readings (a device offline, a fire
detector) has no chart (404)."""

from __future__ import annotations

import math

from aiohttp import web

from hazmon.registry.loader import PointEntry
from hazmon.registry.models import POINT_UNITS, ColorLimits, Point
from hazmon.registry.names import point_name
from hazmon.secrets import Principal

from alerting.api.auth import CALLER
from alerting.desk.chart import WORDS, Limit, Mark, readings_chart_svg
from alerting.desk.connectivity import reports_readings
from alerting.desk.readings import InfluxUnavailable
from alerting.desk.source import DeskSource, signed_in
from alerting.model import Alarm

AROUND_MS = 30 * 60_000          # the window's margin before the alarm and after its end
MAX_SPAN_MS = 3 * 86_400_000     # an alarm open for days: its first three days
MAX_POINTS = 1_200               # more readings than this in the window: each bucket's min and max instead
BUCKETS = 600
LIMIT_WORDS = {"zh": {"high": "一级报警上限", "high_high": "二级报警上限", "low": "一级报警下限", "low_low": "二级报警下限",
                      "red": "红色预警", "orange": "橙色预警", "yellow": "黄色预警", "blue": "蓝色预警", "alarm": "报警限值"},
               "en": {"high": "level-1 high", "high_high": "level-2 high", "low": "level-1 low", "low_low": "level-2 low",
                      "red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue", "alarm": "alarm limit"}}
_TONE_OF = {"high": "first", "low": "first", "high_high": "second", "low_low": "second"}


def point_limits(point: Point, alarm: Alarm, language: str) -> list[Limit]:
    """The point's limits as the registry gives them, and the alarm's own limit when the registry's differ."""
    words = LIMIT_WORDS[language]
    limits = [Limit(words[k], v, _TONE_OF[k]) for k in ("high_high", "high", "low", "low_low")
              if (v := getattr(point, k)) is not None and math.isfinite(v)]
    colors: ColorLimits | None = point.colors
    if colors is not None:
        limits += [Limit(words[c], v, c) for c in ("red", "orange", "yellow", "blue")
                   if (v := getattr(colors, c)) is not None and math.isfinite(v)]
    if alarm.rule == "limit" and alarm.limit is not None and all(abs(lim.value - alarm.limit) > 1e-9 for lim in limits):
        limits.append(Limit(words["alarm"], alarm.limit, "alarm"))
    return limits


def chart_window(alarm: Alarm, now_ms: int) -> tuple[int, int]:
    """``[start, end]`` of the chart: around the alarm, never beyond now, at most :data:`MAX_SPAN_MS`."""
    start = alarm.started_at - AROUND_MS
    ended = alarm.cleared_at or alarm.closed_at
    end = min(now_ms, (ended if ended is not None else now_ms) + AROUND_MS, start + MAX_SPAN_MS)
    return start, max(end, alarm.started_at + 60_000)


def bucket_of(entry: PointEntry, start_ms: int, end_ms: int) -> int | None:
    """None for every reading, or the bucket width when the point's period would give more than :data:`MAX_POINTS`."""
    if (end_ms - start_ms) / (entry.point.period_s * 1000) <= MAX_POINTS:
        return None
    return math.ceil((end_ms - start_ms) / BUCKETS)


def alarm_chart_routes(source: DeskSource) -> list[web.AbstractRouteDef]:
    async def chart(request: web.Request) -> web.Response:
        signed_in(request)
        caller: Principal = request[CALLER]
        language, registry = source.language(), source.registry()
        alarm = await source.find_alarm(request.match_info["alarm_id"])
        entry = registry.point(alarm.enterprise, alarm.point) if alarm is not None and alarm.point else None
        if alarm is None or not source.may_see(caller, alarm.enterprise) or entry is None or not reports_readings(entry):
            raise web.HTTPNotFound(text="no chart")
        start, end = chart_window(alarm, source.now_ms())
        try:
            readings = await source.readings.window(alarm.enterprise, alarm.point, start, end, bucket_of(entry, start, end))
        except InfluxUnavailable:
            raise web.HTTPServiceUnavailable(text="readings unavailable") from None
        words = WORDS[language]
        marks = [Mark(words["started"], alarm.started_at)]
        if alarm.cleared_at is not None:
            marks.append(Mark(words["cleared"], alarm.cleared_at))
        name = point_name(registry, entry, language)
        title = f"{name}（{entry.site.name}）" if language == "zh" else f"{name} ({entry.site.name})"
        svg = readings_chart_svg(readings, point_limits(entry.point, alarm, language), marks,
                                 POINT_UNITS[entry.point.type], title, start, end, language)
        return web.Response(text=svg, content_type="image/svg+xml", charset="utf-8",
                            headers={"Cache-Control": "private, max-age=10"})

    return [web.get("/desk/alarms/{alarm_id}/readings.svg", chart)]
