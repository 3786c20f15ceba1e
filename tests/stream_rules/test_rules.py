"""The other promises of §8, table-driven where they are tables: data quality and stuck values,
offline per device with inhibition and the deadman, trend, group voting, rainfall sums, fire
alarm controller events and the tailings roll-up."""

from __future__ import annotations

import numpy as np
import pytest

from hazmon.registry import Registry
from hazmon.wire import Quality
from stream_rules.engine import RuleEngine
from stream_rules.rollup import pond_colour, roll_up
from tests.stream_rules.county import ENT, T0, Driver, controller_event, record, summary, write_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return write_registry(tmp_path_factory.mktemp("registry"))


def test_bad_quality_is_a_fault_that_clears_after_good_data(registry: Registry) -> None:
    driver = Driver(registry)
    driver.step(0, {"LT": 11}, {"LT": Quality.BAD})
    driver.step(10, {"LT": 11}, {"LT": Quality.BAD})
    assert summary(driver.out) == [("fault", "raised", None)]
    assert driver.out[0]["extra"]["reason"] == "quality_bad" and "设备故障" in driver.out[0]["message"]
    for s in (20, 30, 40):
        driver.step(s, {"LT": 5})
    assert summary(driver.out) == [("fault", "raised", None)]      # good data for less than confirm_s
    driver.step(50, {"LT": 5})
    assert summary(driver.out) == [("fault", "raised", None), ("fault", "cleared", None)]


def test_stuck_value_is_a_fault(registry: Registry) -> None:
    driver = Driver(registry)
    driver.series("ST", [20.0] * 7)                               # stuck_s 60: the 7th equal reading
    assert summary(driver.out) == [("fault", "raised", None)]
    assert driver.out[0]["extra"]["reason"] == "stuck"


def test_fault_keeps_the_limit_alarm_unknown_not_cleared(registry: Registry) -> None:
    driver = Driver(registry)
    driver.series("LT", [11, 11, 11, 11])
    driver.step(40, {"LT": 11}, {"LT": Quality.BAD})
    driver.step(50, {"LT": 11}, {"LT": Quality.BAD})
    assert summary(driver.out) == [("limit", "confirmed", "high"), ("fault", "raised", None)]


def test_silent_device_goes_offline_once_and_inhibits_its_faults(registry: Registry) -> None:
    driver = Driver(registry, devices=("RTU1", "RTU2", "RTU3"))
    for s in range(0, 1000, 10):                                  # GNSS (period 300 s) never reports
        driver.step(s)
    assert summary(driver.out) == [("offline", "raised", None)]
    assert driver.out[0]["device"] == "GNSS" and driver.out[0]["started_at"] == T0 + 900_000
    event = controller_event("fault", 1000)
    event["device"], event["point"] = "GNSS", "D1"
    assert driver.engine.process(events=[event]) == []             # inhibited: the device is offline


def test_status_offline_and_back(registry: Registry) -> None:
    driver = Driver(registry)
    driver.step(0)
    status = {"v": 1, "enterprise": ENT, "device": "RTU2", "online": False, "ts": T0 + 5_000, "recv_ms": T0 + 5_000}
    out = driver.engine.process(statuses=[status])
    assert summary(out) == [("offline", "raised", None)] and out[0]["extra"]["reason"] == "status"
    assert driver.engine.process(statuses=[status]) == []          # once per device
    out = driver.engine.process(statuses=[{**status, "online": True, "ts": T0 + 8_000}])
    assert summary(out) == [("offline", "cleared", None)]


def ramp(start: float, step: float, n: int = 16) -> list[float]:
    return [round(start + step * i, 6) for i in range(n)]


TREND_CASES = [   # TR: period 60 s, window 600 s (4 readings over 400 s at least), confirm 180 s, rate 1/h, high 8
    ("slope over rate_per_h", ramp(1.0, 0.1), None),                  # 6 per hour > 1
    ("flat raises nothing", [5.0] * 16, "none"),
    ("slow slope far from a limit raises nothing", ramp(5.0, 0.01), "none"),
    ("slow slope reaching a limit within 30 min", ramp(7.6, 0.01, 24), "high"),
    ("a step is not a trend", [5.0] * 6 + [7.0] * 10, "none"),
    ("too short a window raises nothing", ramp(1.0, 0.1, 6), "none"),
]


@pytest.mark.parametrize(("name", "values", "level"), TREND_CASES, ids=[c[0] for c in TREND_CASES])
def test_trend(registry: Registry, name: str, values: list[float], level: str | None) -> None:
    driver = Driver(registry, devices=("RTU3",))
    driver.series("TR", values, period_s=60)
    trend = [t for t in driver.out if t["rule"] == "trend"]
    if level == "none":
        assert trend == []
        return
    assert [t["transition"] for t in trend] == ["raised"]
    assert trend[0]["level"] == level and "slope_per_h" in trend[0]["extra"]
    assert trend[0]["reading_ts"] - trend[0]["started_at"] >= 180_000         # confirmed like a limit
    if level is not None:
        assert 0 < trend[0]["extra"]["time_to_limit_s"] <= 1800
    else:
        assert trend[0]["extra"]["rate_per_h"] == 1.0 and trend[0]["extra"]["time_to_limit_s"] > 1800


@pytest.mark.parametrize(("step", "raised"), [(0.0166, False), (0.0168, True)])
def test_trend_at_the_rate_is_not_over_it(registry: Registry, step: float, raised: bool) -> None:
    """1/h is 0.01667 per minute: a clean line just under it raises nothing, just over it a warning."""
    driver = Driver(registry, devices=("RTU3",))
    driver.series("TR", ramp(1.0, step), period_s=60)
    assert bool([t for t in driver.out if t["rule"] == "trend"]) is raised


def test_noise_on_a_stable_point_never_raises_a_trend(registry: Registry) -> None:
    """A week of readings with noise far larger than the rate's change over a window."""
    driver = Driver(registry, devices=("RTU3",))
    rng = np.random.default_rng(7)
    driver.series("TR", list(np.round(5.0 + rng.normal(0, 0.05, 7 * 24 * 60), 3)), period_s=60)
    assert [t for t in driver.out if t["rule"] == "trend"] == []


def test_a_few_readings_in_line_by_chance_are_judged_against_the_points_own_noise(registry: Registry) -> None:
    """Ten readings of a noisy point (σ 0.1) that happen to lie close to a line rising 1.5/h (rate 1/h):
    their own residuals say "trend", the point's long-run noise says "chance" (bench/false_alarms
    found such windows on GNSS points, a handful a month in a county)."""
    driver = Driver(registry, devices=("RTU3",))
    rng = np.random.default_rng(11)
    values = list(np.round(5.0 + rng.normal(0, 0.1, 60), 3)) + [round(5.0 + 0.025 * i, 3) for i in range(12)] \
        + list(np.round(5.0 + rng.normal(0, 0.1, 30), 3))
    driver.series("TR", values, period_s=60)
    assert [t for t in driver.out if t["rule"] == "trend"] == []


def test_one_outlier_in_a_real_trend_does_not_hide_it(registry: Registry) -> None:
    """A multipath-like reading 1.0 off a 3/h ramp (noise σ 0.02): set aside, the ramp is a trend."""
    driver = Driver(registry, devices=("RTU3",))
    rng = np.random.default_rng(5)
    quiet = list(np.round(5.0 + rng.normal(0, 0.02, 30), 3))
    ramp = list(np.round(5.0 + 3.0 / 60 * np.arange(1, 17) + rng.normal(0, 0.02, 16), 3))
    ramp[7] += 1.0
    driver.series("TR", quiet + ramp + [ramp[-1]] * 4, period_s=60)
    assert [t["transition"] for t in driver.out if t["rule"] == "trend"][:1] == ["raised"]


def test_a_noisy_real_trend_is_found_with_its_time_to_limit_from_the_fitted_line(registry: Registry) -> None:
    driver = Driver(registry, devices=("RTU3",))
    rng = np.random.default_rng(3)
    values = 6.0 + 2.0 / 60 * np.arange(40) + rng.normal(0, 0.02, 40)   # 2 per hour toward high 8
    driver.series("TR", list(np.round(values, 3)), period_s=60)
    trend = [t for t in driver.out if t["rule"] == "trend"]
    assert [t["transition"] for t in trend][:1] == ["raised"]
    minutes_in = (trend[0]["reading_ts"] - T0) / 60_000
    expected_s = (8.0 - (6.0 + 2.0 / 60 * minutes_in)) / 2.0 * 3600
    assert trend[0]["extra"]["time_to_limit_s"] == pytest.approx(expected_s, rel=0.25)


def test_two_points_of_a_group_confirm_one_group_alarm_at_once(registry: Registry) -> None:
    driver = Driver(registry)
    driver.step(0, {"G1": 30})
    assert summary(driver.out) == []                                # one point alone: wait for confirm_s
    driver.step(10, {"G1": 30, "G2": 30})
    assert summary(driver.out) == [("vote", "confirmed", "high")]
    vote = driver.out[0]
    assert vote["point"] == "ZONE" and vote["extra"]["group"] == "ZONE"
    assert vote["extra"]["points"] == "G1=30, G2=30"
    driver.step(20, {"G1": 55, "G2": 30})
    driver.step(30, {"G1": 55, "G2": 55})
    assert summary(driver.out) == [("vote", "confirmed", "high"), ("vote", "escalated", "high_high")]


def test_one_leak_is_one_alarm_however_long_it_lasts(registry: Registry) -> None:
    """§8: while the group alarm is open, its members' own limit alarms at that level are not raised."""
    driver = Driver(registry)
    for s in range(0, 600, 10):
        driver.step(s, {"G1": 30, "G2": 30})
    assert summary(driver.out) == [("vote", "confirmed", "high")]
    for s in range(600, 700, 10):                                   # G1 alone goes beyond high_high: its own alarm
        driver.step(s, {"G1": 55, "G2": 30})
    assert summary(driver.out)[1:] == [("limit", "confirmed", "high_high")]
    assert driver.out[1]["point"] == "G1"


@pytest.mark.parametrize("value", [20.5, 1e6])
def test_a_reading_pinned_above_full_scale_is_the_worst_alarm_and_a_fault(registry: Registry, value: float) -> None:
    """§8 fail-safe: beyond the range on the dangerous side is beyond the worst limit, confirmed as usual."""
    driver = Driver(registry)
    driver.series("LT", [value] * 4)
    assert sorted(summary(driver.out)) == [("fault", "raised", None), ("limit", "confirmed", "high_high")]
    limit = next(t for t in driver.out if t["rule"] == "limit")
    fault = next(t for t in driver.out if t["rule"] == "fault")
    assert limit["extra"]["reason"] == "over_range" and "超量程" in limit["message"]
    assert fault["extra"]["reason"] == "over_range"


def test_a_gas_pair_pinned_above_full_scale_is_one_second_level_alarm(registry: Registry) -> None:
    driver = Driver(registry)
    for s in range(0, 60, 10):
        driver.step(s, {"G1": 100.5, "G2": 100.5})
    alarms = [t for t in driver.out if t["rule"] != "fault"]
    assert summary(alarms) == [("vote", "confirmed", "high_high")] and alarms[0]["point"] == "ZONE"
    assert {t["point"] for t in driver.out if t["rule"] == "fault"} == {"G1", "G2"}


def test_below_the_range_on_the_safe_side_is_only_a_fault(registry: Registry) -> None:
    driver = Driver(registry)
    driver.series("LT", [-1.0] * 4)                                 # tank_level has no low limit
    assert summary(driver.out) == [("fault", "raised", None)] and driver.out[0]["extra"]["reason"] == "out_of_range"


def test_rainfall_sums(registry: Registry) -> None:
    driver = Driver(registry, devices=("GNSS",))
    out = []
    for i, mm in enumerate([5, 10, 10, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0]):
        out += driver.step(i * 300, {"RAIN": mm})
    rain = summary(out, "rainfall")
    assert rain == [("rainfall", "confirmed", "high_1h"), ("rainfall", "cleared", "high_1h")]
    assert [t for t in out if t["rule"] == "rainfall"][0]["value"] == 31


def test_one_reading_over_both_rainfall_limits_opens_two_alarms(registry: Registry) -> None:
    """The 1 h and 24 h sums are two limits: two alarms with their own ids; the 1 h one clears alone."""
    driver = Driver(registry, devices=("GNSS",))
    out = driver.step(0, {"RAIN": 60})
    for i in range(1, 16):
        out += driver.step(i * 300, {"RAIN": 0})
    rain = [t for t in out if t["rule"] == "rainfall"]
    opened = {t["level"]: t["id"] for t in rain if t["transition"] == "confirmed"}
    assert set(opened) == {"high_1h", "high_24h"} and opened["high_1h"] != opened["high_24h"]
    assert [(t["id"], t["transition"]) for t in rain if t["transition"] == "cleared"] == [(opened["high_1h"], "cleared")]


EVENT_CASES = [
    ("fire confirms at once", ["fire"], [("fire", "confirmed", None)]),
    ("a repeated fire is the same alarm", ["fire", "fire"], [("fire", "confirmed", None)]),
    ("reset clears the fire", ["fire", "reset"], [("fire", "confirmed", None), ("fire", "cleared", None)]),
    ("fault is a device fault", ["fault", "normal"], [("fault", "raised", None), ("fault", "cleared", None)]),
    ("disabled is recorded", ["disabled"], [("fire", "recorded", None)]),
]


@pytest.mark.parametrize(("name", "events", "expected"), EVENT_CASES, ids=[c[0] for c in EVENT_CASES])
def test_controller_events(registry: Registry, name: str, events: list[str], expected: list) -> None:
    driver = Driver(registry)
    out = driver.engine.process(events=[controller_event(e, i) for i, e in enumerate(events)])
    assert summary(out) == expected
    if events[0] == "fire":
        assert out[0]["severity"] == 4 and "火警" in out[0]["message"]


def test_fire_goes_out_ahead_of_readings(registry: Registry) -> None:
    driver = Driver(registry)
    readings = [record("RTU1", T0 + i * 10_000, {"LT": 11}) for i in range(5)]
    out = driver.engine.process(readings=readings, events=[controller_event("fire", 40)])
    assert out[0]["rule"] == "fire"


ROLLUP_CASES = [([1, 1, 1, 1], 2), ([1, 1, 1], 0), ([2, 2, 2], 3), ([3, 3], 4), ([4], 0), ([2, 2, 1, 1], 2), ([0, 0], 0)]


@pytest.mark.parametrize(("levels", "colour"), ROLLUP_CASES)
def test_roll_up_counts(levels: list[int], colour: int) -> None:
    assert roll_up(levels) == colour


def test_pond_is_worst_of_roll_up_and_points() -> None:
    assert pond_colour({"displacement": [1, 1, 1, 1], "water_level": [0]}) == (2, 1, {"displacement": 2, "water_level": 0})
    assert pond_colour({"displacement": [4], "water_level": [0]})[0] == 4


def test_four_blue_points_make_the_pond_yellow(registry: Registry) -> None:
    driver = Driver(registry, devices=("GNSS",))
    for i in range(3):                                             # blue is 40 (0.4 × red 100), confirm 600 s
        driver.step(i * 300, {"D1": 45, "D2": 45, "D3": 45, "D4": 45})
    rollup = [t for t in driver.out if t["rule"] == "rollup"]
    assert summary(rollup) == [("rollup", "confirmed", "yellow")]
    assert rollup[0]["point"] == "WK" and rollup[0]["extra"]["item_displacement"] == "yellow"


def test_a_roll_up_opens_at_the_same_reading_however_the_readings_are_batched(registry: Registry) -> None:
    """A worker's backlog after a restart arrives as one batch: the roll-up must open at the reading that
    made the pond's colour, with the same id, not at the batch's newest reading."""
    driver = Driver(registry, devices=("GNSS",))
    played: list = []
    one_at_a_time = driver.engine.process

    def keep(readings: list, **other: list) -> list:
        played.extend(readings)
        return one_at_a_time(readings=readings, **other)

    driver.engine.process = keep  # type: ignore[method-assign]
    for i in range(6):
        driver.step(i * 300, {"D1": 45, "D2": 45, "D3": 45, "D4": 45})
    in_one_batch = RuleEngine(registry, clock=lambda: 0).process(readings=played)
    rollups = [[(t["id"], t["transition"], t["reading_ts"]) for t in out if t["rule"] == "rollup"]
               for out in (driver.out, in_one_batch)]
    assert rollups[0] and rollups[0] == rollups[1]


def test_a_densely_reporting_rain_gauge_keeps_a_bounded_window_and_the_same_sums(registry: Registry) -> None:
    """0.02 mm every 2 s (the gauge's period is 300 s): 36 mm/h. Readings within a minute of the
    newest entry are merged into it, so a day's window stays ≤ 1 440 entries; the 1 h sum reaches
    30 mm at 3 000 s give or take one entry (up to two minutes wide)."""
    driver = Driver(registry, devices=("GNSS",))
    for s in range(0, 7200, 2):
        driver.step(s, {"RAIN": 0.02})
    window = driver.engine.states[ENT].windows["RAIN"]
    assert 60 <= len(window) <= 120                                 # 2 h of one- to two-minute entries
    assert sum(e[1] for e in window) == pytest.approx(0.02 * 3600)  # nothing lost by merging
    hour = [t for t in driver.out if t["rule"] == "rainfall" and t["level"] == "high_1h"]
    assert [t["transition"] for t in hour] == ["confirmed"]
    assert abs(hour[0]["reading_ts"] - (T0 + 3_000_000)) <= 120_000
