"""The judge (device_sim.alarm_truth) on hand-made alarms, and a short run of bench/false_alarms.py."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import orjson
import pytest

from hazmon.wire import AlarmTransition

from device_sim.alarm_truth import judge
from device_sim.field import Truth
from testbed.false_alarms import judge_county

T0 = 1_764_000_000_000
ROOT = Path(__file__).resolve().parents[2]
SUMMARY_KEYS = {"point_days", "false_alarms", "false_alarms_per_1000_point_days", "missed", "recall",
                "p50_detection_delay_s", "p99_detection_delay_s", "per_rule"}


def alarm(id_: str, rule: str, at_s: float, *, point: str = "", device: str = "RTU01", level: str | None = None,
          transition: str = "confirmed", enterprise: str = "E1", emitted_s: float | None = None) -> AlarmTransition:
    return {"v": 1, "id": id_, "transition": transition, "enterprise": enterprise, "site": "S", "device": device,  # type: ignore[typeddict-item]
            "point": point, "rule": rule, "level": level, "severity": 1, "value": None, "limit": None,  # type: ignore[typeddict-item]
            "started_at": T0 + int(at_s * 1000), "reading_ts": T0 + int(at_s * 1000),
            "emitted_ms": T0 + int((at_s if emitted_s is None else emitted_s) * 1000), "message": "", "message_en": ""}


def truth(rule: str, from_s: float, to_s: float, *, point: str | None = None, device: str | None = None,
          level: str | None = None, required: bool = True, by_emitted: bool = False, onset_s: float | None = None) -> Truth:
    return Truth("test", "E1", rule, point, device, level, T0 + int(from_s * 1000), T0 + int(to_s * 1000),
                 T0 + int((from_s if onset_s is None else onset_s) * 1000), required, by_emitted)


def test_an_alarm_in_its_window_is_a_detection_with_its_delay() -> None:
    result = judge([truth("limit", 100, 200, point="P1", level="high")],
                   [alarm("a", "limit", 130, point="P1", level="high"), alarm("a", "limit", 500, point="P1", transition="cleared")],
                   point_days=10)
    summary = result.summary()
    assert (summary["false_alarms"], summary["missed"], summary["recall"]) == (0, 0, 1.0)
    assert summary["p50_detection_delay_s"] == 30.0 and summary["per_rule"]["limit"]["expected"] == 1


@pytest.mark.parametrize("wrong", [
    alarm("a", "limit", 130, point="P2", level="high"),          # another point
    alarm("a", "limit", 250, point="P1", level="high"),          # after the window
    alarm("a", "trend", 130, point="P1"),                        # another rule
    alarm("a", "limit", 130, point="P1", level="high", enterprise="E2"),
], ids=["point", "late", "rule", "enterprise"])
def test_an_alarm_that_meets_no_truth_is_false_and_the_truth_is_missed(wrong: AlarmTransition) -> None:
    result = judge([truth("limit", 100, 200, point="P1", level="high")], [wrong], point_days=10)
    summary = result.summary()
    assert (summary["false_alarms"], summary["missed"], summary["recall"]) == (1, 1, 0.0)
    assert summary["per_rule"][wrong["rule"]]["false_alarms"] == 1 and summary["per_rule"]["limit"]["missed"] == 1
    assert summary["false_alarms_per_1000_point_days"] == 100.0
    assert any("FALSE" in line for line in result.explain()) and any("MISSED" in line for line in result.explain())


def test_a_second_alarm_for_one_truth_is_a_false_repeat() -> None:
    result = judge([truth("vote", 100, 200, point="G1", level="high_high")],
                   [alarm("a", "vote", 120, point="G1", level="high_high"), alarm("b", "vote", 150, point="G1", level="high_high")],
                   point_days=1)
    assert [t["id"] for t in result.false] == ["b"] and not result.missed


def test_a_level_reached_by_escalation_counts_from_the_escalation() -> None:
    opened = [alarm("a", "vote", 110, point="G1", level="high"), alarm("a", "vote", 140, point="G1", level="high_high",
                                                                        transition="escalated")]
    result = judge([truth("vote", 100, 200, point="G1", level="high_high")], opened, point_days=1)
    assert not result.false and not result.missed and result.summary()["p50_detection_delay_s"] == 40.0
    too_low = judge([truth("vote", 100, 200, point="G1", level="high_high")], opened[:1], point_days=1)
    assert len(too_low.false) == 1 and len(too_low.missed) == 1


def test_member_limit_alarms_beside_a_group_vote_are_false() -> None:
    result = judge([truth("vote", 100, 200, point="G1", level="high_high")],
                   [alarm("v", "vote", 120, point="G1", level="high_high"), alarm("m1", "limit", 150, point="GAS1", level="high_high"),
                    alarm("m2", "limit", 150, point="GAS2", level="high_high")], point_days=1)
    assert sorted(t["id"] for t in result.false) == ["m1", "m2"] and not result.missed


def test_a_tolerated_alarm_is_neither_false_nor_expected_and_is_judged_on_the_platform_clock() -> None:
    backfill = truth("offline", 0, 3600, device="RTU02", required=False, by_emitted=True)
    during = alarm("a", "offline", 100, device="RTU02", transition="raised", emitted_s=200)
    after = alarm("b", "offline", 100, device="RTU02", transition="raised", emitted_s=3700)   # raised by a sibling's upload
    result = judge([backfill], [during, after], point_days=1)
    assert [t["id"] for t in result.false] == ["b"]
    assert result.summary()["recall"] is None and result.summary()["missed"] == 0


def test_the_platform_alarm_matches_any_subject_of_enterprise_platform() -> None:
    outage = Truth("outage", "platform", "platform", None, None, None, T0, T0 + 600_000, T0)
    result = judge([outage], [alarm("p", "platform", 300, enterprise="platform", device="", transition="raised")], point_days=1)
    assert not result.false and not result.missed


def test_a_short_run_of_the_bench_prints_its_json() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "false_alarms.py"), "--days", "1", "--enterprises", "3",
                           "--seed", "1"], capture_output=True, text=True, timeout=300, check=True)
    summary = orjson.loads(done.stdout.strip().splitlines()[-1])
    assert SUMMARY_KEYS <= set(summary)
    assert summary["point_days"] > 0 and summary["per_rule"]
    assert all({"false_alarms", "missed", "recall"} <= set(v) for v in summary["per_rule"].values())
    assert "false alarms:" in done.stderr


def test_judge_county_summarises_a_small_county() -> None:
    summary = judge_county(0.5, 3, 1).summary()
    assert SUMMARY_KEYS <= set(summary) and summary["expected"] > 0 and summary["point_days"] > 0
