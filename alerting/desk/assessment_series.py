"""The 考核指标 as a time series for Grafana (issue 17; docs/dashboards.md "考核指标"): every ``desk_assessment_s``
the figures of the Beijing day so far, per county, town and enterprise, as ``assessment`` lines (hazmon.series) onto
alerting's series topic for the recorder to write. A day's point is stamped with the day's start, so each write of
the day replaces the last; the first write after a day has ended (and the first after a start, for the day before)
writes that day's final figures. The figures are the daily report's: alerting/desk/assessment.py over the alarms
that started that day, 联网率 and 在线率 (alerting/desk/connectivity.py) from each point's last raw reading of the day
in InfluxDB, the report's own query (one point per series read: bench/desk_report.py); when InfluxDB does not answer
those two are left out of the lines and the next period writes them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import datetime

from hazmon import series
from hazmon.officer_time import BEIJING, beijing
from hazmon.registry import Registry

from alerting.desk.assessment import Figures, assess
from alerting.desk.connectivity import Connectivity, connectivity
from alerting.desk.day_figures import by_scope, enterprise_town
from alerting.desk.readings import InfluxUnavailable, Readings
from alerting.desk.shift import DAY_MS, WORDS
from alerting.model import Alarm

log = logging.getLogger(__name__)


def day_start_ms(ts_ms: int) -> int:
    """The start of the Beijing day holding ``ts_ms``."""
    day = beijing(ts_ms).date()
    return int(datetime(day.year, day.month, day.day, tzinfo=BEIJING).timestamp() * 1000)


def _fields(figures: Figures, reach: Connectivity | None) -> dict[str, float | int | None]:
    handled = figures.as_json()
    fields: dict[str, float | int | None] = {
        series.ALARMS: handled["alarms"], series.SIGN_IN_TIME_RATE: handled["sign_in_time_rate"],
        series.DISPOSAL_RATE: handled["disposal_rate"], series.FALSE_ALARM_RATE: handled["false_alarm_rate"],
        series.MINUTES_TO_SIGN: handled["mean_minutes_to_sign"], series.MINUTES_TO_CLOSE: handled["mean_minutes_to_close"]}
    if reach is not None and reach.points:
        fields |= {series.NETWORK_RATE: reach.network_rate, series.ONLINE_RATE: reach.online_rate,
                   series.POINTS: reach.points, series.POINTS_SENDING: reach.points_sending,
                   series.POINTS_ONLINE: reach.points_online, series.ENTERPRISES_SENDING: reach.enterprises_sending}
    return fields


class AssessmentSeries:
    """Writes the 考核指标 of alerting's alarms and the registry's points, through ``submit`` (the series topic)."""

    def __init__(self, alarms_started: Callable[[int, int], Awaitable[list[Alarm]]], registry: Callable[[], Registry],
                 readings: Readings, language: Callable[[], str], submit: Callable[[list[str]], None],
                 now_ms: Callable[[], int]) -> None:
        self.alarms_started = alarms_started
        self.registry = registry
        self.readings = readings
        self.language = language
        self.submit = submit
        self.now_ms = now_ms
        self._written_day: int | None = None    # the start of the day last written

    async def lines(self, day_ms: int, at_ms: int) -> list[str]:
        """The lines of the day starting at ``day_ms``, 在线率 counted at ``at_ms`` (its end once it is over)."""
        registry = self.registry()
        end_ms = day_ms + DAY_MS
        figures = assess(await self.alarms_started(day_ms, end_ms), lambda e: enterprise_town(registry, e), day_ms, end_ms)
        try:
            reach = connectivity(registry, lambda _: True, await self.readings.last_readings(start_ms=day_ms, end_ms=at_ms + 1), at_ms)
        except InfluxUnavailable as unavailable:
            log.warning("联网率 and 在线率 not written: InfluxDB could not be queried", extra={"error": str(unavailable)[:300]})
            reach = None
        county = WORDS[self.language()]["county"]
        return [series.assessment_line(row.scope, row.town, row.enterprise, county if row.scope == series.COUNTY_SCOPE else row.name,
                                       _fields(row.handled, row.reach), day_ms)
                for row in by_scope(registry, figures, reach, lambda _: True)]

    async def write(self) -> None:
        """The day so far, after the final figures of the day before when it has ended since the last write."""
        now = self.now_ms()
        today = day_start_ms(now)
        if self._written_day != today:
            ended = self._written_day if self._written_day is not None else today - DAY_MS
            self.submit(await self.lines(ended, ended + DAY_MS))
        self.submit(await self.lines(today, now))
        self._written_day = today

    async def run(self, period_s: float) -> None:
        """:meth:`write` every ``period_s`` (the first one period after the start: the alarm log caught up by then)."""
        while True:
            await asyncio.sleep(period_s)
            try:
                await self.write()
            except Exception:  # noqa: BLE001 - the ledger or Kafka busy: the next period tries again
                log.exception("考核指标 not written")

