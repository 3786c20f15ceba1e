"""考核指标 from the alarm record: per day, for the county, each town and each enterprise, how alarms were
handled (issue 17). Pure functions of the alarms that started in the period; 联网率 and 在线率 come
from the readings, not from here.

- 签收及时率: alarms signed (签收) within ``SIGN_WITHIN_MS`` of the platform's alarm, of all alarms;
- 处置率: alarms closed with a disposal note, of all alarms;
- 误报率: alarms closed with the cause 误报 (``false_alarm``), of the closed ones;
- mean minutes to sign and to close, over the alarms that were.
Alarms of the platform itself (data outage) are not an enterprise's and are left out.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from hazmon.wire import PLATFORM_ENTERPRISE

from alerting.model import FALSE_ALARM, Alarm

SIGN_WITHIN_MS = 5 * 60 * 1000


@dataclass
class Figures:
    alarms: int = 0
    signed_in_time: int = 0
    closed: int = 0
    false_alarms: int = 0
    sign_ms: list[int] = field(default_factory=list)
    close_ms: list[int] = field(default_factory=list)

    def add(self, alarm: Alarm) -> None:
        self.alarms += 1
        if alarm.acked_at is not None:
            self.sign_ms.append(alarm.acked_at - alarm.started_at)
            self.signed_in_time += alarm.acked_at - alarm.started_at <= SIGN_WITHIN_MS
        if alarm.closed_at is not None and alarm.close_note:
            self.closed += 1
            self.close_ms.append(alarm.closed_at - alarm.started_at)
            self.false_alarms += alarm.close_cause == FALSE_ALARM

    def as_json(self) -> dict[str, float | int | None]:
        def ratio(part: int, whole: int) -> float | None:
            return None if whole == 0 else round(part / whole, 4)

        def mean_min(values: list[int]) -> float | None:
            return None if not values else round(sum(values) / len(values) / 60_000, 1)

        return {"alarms": self.alarms, "sign_in_time_rate": ratio(self.signed_in_time, self.alarms),
                "disposal_rate": ratio(self.closed, self.alarms), "false_alarm_rate": ratio(self.false_alarms, self.closed),
                "mean_minutes_to_sign": mean_min(self.sign_ms), "mean_minutes_to_close": mean_min(self.close_ms)}


@dataclass
class Assessment:
    county: Figures = field(default_factory=Figures)
    towns: dict[str, Figures] = field(default_factory=dict)
    enterprises: dict[str, Figures] = field(default_factory=dict)


def assess(alarms: Iterable[Alarm], town_of: Callable[[str], str], start_ms: int, end_ms: int) -> Assessment:
    """The figures of the alarms that started in ``[start_ms, end_ms)``."""
    result = Assessment()
    for alarm in alarms:
        if not start_ms <= alarm.started_at < end_ms or alarm.enterprise == PLATFORM_ENTERPRISE:
            continue
        result.county.add(alarm)
        result.towns.setdefault(town_of(alarm.enterprise), Figures()).add(alarm)
        result.enterprises.setdefault(alarm.enterprise, Figures()).add(alarm)
    return result
