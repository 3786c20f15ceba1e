"""The 考核指标 as a time series (issue 17): each write covers the Beijing day so far, stamped with the day's start; the
first write after a day ended (or after a start) writes that day's final figures; a silent InfluxDB leaves out only
联网率 and 在线率."""

from __future__ import annotations

from hazmon import series
from hazmon.registry import load_registry
from hazmon.settings import Settings

from alerting.desk.assessment_series import AssessmentSeries, day_start_ms
from alerting.desk.readings import InfluxUnavailable, LastReading
from alerting.model import Alarm

DAY = 86_400_000
T0 = 1_764_518_400_000          # 2025-12-01 00:00 +08:00 (2025-11-30 16:00 UTC)
MINUTE = 60_000
CHEM = "91433127MA4CHEM001"


class SilentInflux:
    async def last_readings(self, **_: int) -> dict[tuple[str, str], LastReading]:
        raise InfluxUnavailable("connection refused")


class OneReading:
    """One reading at 09:59:55 of the day: raw, or in the hourly aggregates as its hour's bucket."""

    def __init__(self) -> None:
        self.asked: list[tuple[str, int, int]] = []

    async def last_readings(self, start_ms: int, end_ms: int, policy: str = series.RAW_POLICY) -> dict[tuple[str, str], LastReading]:
        self.asked.append((policy, start_ms, end_ms))
        at = T0 + 10 * 3_600_000 - 5_000
        ts = at if policy == series.RAW_POLICY else at // 3_600_000 * 3_600_000
        return {(CHEM, "TK01_LT"): LastReading(ts, 9.4)} if start_ms <= at < end_ms else {}


def alarm(started: int) -> Alarm:
    return Alarm(id=f"a{started}", enterprise=CHEM, site="TANKS", device="D", point="TK01_LT", rule="limit", level="high",
                 severity=1, value=9.5, limit=9.0, started_at=started, message="m", message_en="m",
                 acked_at=started + 2 * MINUTE)


def emitter(now: list[int], readings: object, written: list[list[str]]) -> AssessmentSeries:
    registry = load_registry(Settings().registry_dir)
    alarms = [alarm(T0 + 3_600_000)]

    async def started(start: int, end: int) -> list[Alarm]:
        return [a for a in alarms if start <= a.started_at < end]

    return AssessmentSeries(started, lambda: registry, readings, lambda: "zh", written.append,  # type: ignore[arg-type]
                            lambda: now[0])


def county_line(lines: list[str]) -> str:
    (line,) = [line for line in lines if f",{series.SCOPE}={series.COUNTY_SCOPE}," in line]
    return line


def test_day_start_is_beijing_midnight() -> None:
    assert day_start_ms(T0 + DAY - 1) == T0 and day_start_ms(T0 + DAY) == T0 + DAY and day_start_ms(T0 - 1) == T0 - DAY


async def test_the_day_so_far_then_the_closed_day_at_its_end() -> None:
    now, written, readings = [T0 + 10 * 3_600_000], [], OneReading()
    figures = emitter(now, readings, written)
    await figures.write()
    # the daily report's own question (shift._reach), raw: the hourly aggregates would put a point's last reading at its
    # hour's start and count a long-period point offline up to an hour before the report does
    assert readings.asked[-1] == (series.RAW_POLICY, T0, now[0] + 1)
    assert all(policy == series.RAW_POLICY for policy, _, _ in readings.asked)
    yesterday, today = written
    assert county_line(yesterday).endswith(f" {T0 - DAY}") and "alarms=0i" in county_line(yesterday)
    line = county_line(today)
    assert line.startswith(f"{series.ASSESSMENT},enterprise=-,name=全县,scope=county,town=- ") and line.endswith(f" {T0}")
    assert "alarms=1i" in line and "sign_in_time_rate=1.0" in line and "points_online=1i" in line
    registry = load_registry(Settings().registry_dir)
    doc = registry.enterprises[CHEM].enterprise
    (enterprise,) = [x for x in today if x.startswith(f"{series.ASSESSMENT},enterprise={CHEM},")]
    assert f",name={series.tag(doc.name)},scope=enterprise,town={series.tag(doc.town)} " in enterprise   # names (§10)
    assert "alarms=1i" in enterprise and "network_rate=" in enterprise
    assert len(today) == 1 + len({d.enterprise.town for d in registry.enterprises.values()}) + len(registry.enterprises)

    written.clear()
    await figures.write()                                  # the same day again: only the day so far
    assert [county_line(lines).rsplit(" ", 1)[1] for lines in written] == [str(T0)]

    written.clear()
    now[0] = T0 + DAY + MINUTE                             # past midnight: the closed day's final figures, then the new day
    await figures.write()
    closed, new_day = written
    assert county_line(closed).endswith(f" {T0}") and "alarms=1i" in county_line(closed)
    assert "points_online=0i" in county_line(closed)      # counted at the day's end: the reading is 14 h old by then
    assert "points_sending=1i" in county_line(closed)     # sent that day
    assert county_line(new_day).endswith(f" {T0 + DAY}") and "alarms=0i" in county_line(new_day)


async def test_a_silent_influxdb_leaves_out_only_the_connectivity() -> None:
    written: list[list[str]] = []
    await emitter([T0 + 3_600_000 + MINUTE], SilentInflux(), written).write()
    line = county_line(written[-1])
    assert "alarms=1i" in line and "sign_in_time_rate=1.0" in line
    assert series.NETWORK_RATE not in line and series.ONLINE_RATE not in line
