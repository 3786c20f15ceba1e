"""考核指标 from the alarm record (issue 17): 签收及时率, 处置率, 误报率, mean times, by county, town and enterprise."""

from __future__ import annotations

from alerting.desk.assessment import assess
from alerting.model import Alarm

DAY = 86_400_000
T0 = 1_764_547_200_000          # 2025-12-01 00:00 +08:00
MINUTE = 60_000
TOWNS = {"CHEM": "灵溪镇", "FIRE": "灵溪镇", "MINE": "青天坪镇"}


def _alarm(n: int, enterprise: str, started: int, signed_after: int | None = None, closed_after: int | None = None,
           cause: str | None = None) -> Alarm:
    return Alarm(id=f"a{n}", enterprise=enterprise, site="S", device="D", point="P", rule="limit", level="high", severity=1,
                 value=1.0, limit=0.5, started_at=started, message="m", message_en="m",
                 acked_at=None if signed_after is None else started + signed_after,
                 closed_at=None if closed_after is None else started + closed_after,
                 close_note=None if closed_after is None else "已处置", close_cause=cause)


def test_the_figures_of_a_day() -> None:
    alarms = [
        _alarm(1, "CHEM", T0 + 1000, signed_after=2 * MINUTE, closed_after=30 * MINUTE, cause="real_hazard"),
        _alarm(2, "CHEM", T0 + 2000, signed_after=9 * MINUTE, closed_after=60 * MINUTE, cause="false_alarm"),
        _alarm(3, "MINE", T0 + 3000),                                    # never signed
        _alarm(4, "FIRE", T0 + DAY - 1, signed_after=5 * MINUTE),        # 5 min exactly: in time
        _alarm(5, "FIRE", T0 + DAY, signed_after=MINUTE),                # the next day
        _alarm(6, "platform", T0 + 5000),                                # the platform's own outage
    ]
    day = assess(alarms, TOWNS.__getitem__, T0, T0 + DAY)
    assert day.county.as_json() == {"alarms": 4, "sign_in_time_rate": 0.5, "disposal_rate": 0.5, "false_alarm_rate": 0.5,
                                    "mean_minutes_to_sign": round((2 + 9 + 5) / 3, 1), "mean_minutes_to_close": 45.0}
    assert day.towns["灵溪镇"].alarms == 3 and day.towns["青天坪镇"].as_json()["sign_in_time_rate"] == 0.0
    assert day.enterprises["MINE"].as_json()["false_alarm_rate"] is None          # nothing closed: no rate, not 0
    assert set(day.enterprises) == {"CHEM", "MINE", "FIRE"}
