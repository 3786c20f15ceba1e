"""Limit rules of §8, table-driven: confirmation over confirm_s by reading time, clearing with the
deadband, one alarm per point and side, escalation and de-escalation within it, and the edge cases."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.registry import Registry
from stream_rules.engine import RuleEngine
from tests.stream_rules.county import REGISTRY_YAML, T0, Driver, record, summary, write_registry


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return write_registry(tmp_path_factory.mktemp("registry"))


# LT: high 10, high_high 15, deadband 0.2 (1 % of range 20), period 10 s → confirm_s 30 s.
CASES = [
    ("spike one reading shorter than confirm_s", [5, 11, 11, 11, 5, 5], []),
    ("held exactly confirm_s confirms", [5, 11, 11, 11, 11, 5], [("limit", "confirmed", "high")]),
    ("exactly on the limit is beyond it", [10, 10, 10, 10], [("limit", "confirmed", "high")]),
    ("just below the limit raises nothing", [9.999] * 6, []),
    ("clears after confirm_s inside by the deadband",
     [11, 11, 11, 11, 9.7, 9.7, 9.7, 9.7], [("limit", "confirmed", "high"), ("limit", "cleared", "high")]),
    ("deadband chatter neither clears nor repeats",
     [11, 11, 11, 11, 9.9, 10.1, 9.9, 10.1, 9.9, 9.85, 9.9, 10.2], [("limit", "confirmed", "high")]),
    ("escalates and de-escalates within one alarm",
     [11, 11, 11, 11, 16, 16, 16, 16, 12, 12, 12, 12, 5, 5, 5, 5],
     [("limit", "confirmed", "high"), ("limit", "escalated", "high_high"),
      ("limit", "deescalated", "high"), ("limit", "cleared", "high")]),
    ("a worse level confirms its own run", [16, 16, 16, 16], [("limit", "confirmed", "high_high")]),
    ("NaN breaks the run and is a fault, not a limit alarm",
     [11, 11, float("nan"), 11, 11], [("fault", "raised", None)]),
    ("beyond the top of range is the worst limit and a fault (fail-safe)", [25, 25, 25, 25, 25],
     [("fault", "raised", None), ("limit", "confirmed", "high_high")]),
    ("below the bottom of range on the safe side is a fault only", [-1, -1, -1, -1, -1], [("fault", "raised", None)]),
]


@pytest.mark.parametrize(("name", "values", "expected"), CASES, ids=[c[0] for c in CASES])
def test_limit_series(registry: Registry, name: str, values: list[float], expected: list) -> None:
    driver = Driver(registry)
    driver.series("LT", values)
    assert summary(driver.out) == expected


def test_one_alarm_id_for_its_whole_life(registry: Registry) -> None:
    driver = Driver(registry)
    driver.series("LT", [11, 11, 11, 11, 16, 16, 16, 16, 5, 5, 5, 5, 5, 5, 5])
    ids = {t["id"] for t in driver.out}
    assert len(ids) == 1 and len(driver.out) == 3
    assert driver.out[0]["started_at"] == T0          # the first reading beyond the limit
    assert driver.out[0]["value"] == 11 and driver.out[0]["limit"] == 10
    assert "高限一级报警确认" in driver.out[0]["message"] and "level 1 high alarm" in driver.out[0]["message_en"]


def test_below_limits_confirm_too(registry: Registry, tmp_path: Path) -> None:
    low = write_registry(tmp_path / "low", """
enterprise: {id: "TESTENT01", name: "x", lat: 29, lon: 109}
sites: [{id: B, name: "b", kind: fire_unit}]
points: [{id: LT, site: B, device: RTU1, type: hydrant_pressure, range: [0, 1.6], period_s: 10}]
""")
    engine_out = []
    engine = RuleEngine(low)
    for i, value in enumerate([0.5, 0.12, 0.12, 0.12, 0.12, 0.05, 0.05, 0.05, 0.05]):
        engine_out += engine.process(readings=[record("RTU1", T0 + i * 10_000, {"LT": value})])
    assert summary(engine_out) == [("limit", "confirmed", "low"), ("limit", "escalated", "low_low")]


def test_out_of_order_reading_is_ignored(registry: Registry) -> None:
    driver = Driver(registry)
    driver.series("LT", [11, 11, 11])
    late = record("RTU1", T0 + 5_000, {"LT": 5})     # older than the point's last reading
    assert driver.engine.process(readings=[late]) == []
    assert driver.engine.counters["late"] == 1
    driver.step(30, {"LT": 11})
    assert summary(driver.out) == [("limit", "confirmed", "high")]


def test_order_inside_one_batch_does_not_matter(registry: Registry) -> None:
    driver = Driver(registry)
    shuffled = [record("RTU1", T0 + s * 10_000, {"LT": 11, "G1": 2, "G2": 2}) for s in (3, 1, 0, 2)]
    out = [t for t in driver.engine.process(readings=shuffled) if t["rule"] == "limit"]
    assert summary(out) == [("limit", "confirmed", "high")]
    assert out[0]["reading_ts"] == T0 + 30_000


def test_a_gap_breaks_the_run(registry: Registry) -> None:
    driver = Driver(registry)
    driver.step(0, {"LT": 11})
    driver.step(10, {"LT": 11})
    driver.step(60, {"LT": 11})                      # 50 s of silence > 3 × period_s: the run starts again
    driver.step(70, {"LT": 11})
    assert summary(driver.out, "limit") == []
    driver.step(90, {"LT": 11})
    assert summary(driver.out, "limit") == [("limit", "confirmed", "high")]


def test_batching_does_not_change_the_output(registry: Registry) -> None:
    values = [5, 11, 11, 11, 11, 16, 16, 16, 16, 9, 9, 9, 9, 5, 5, 5, 5]
    records = [record("RTU1", T0 + i * 10_000, {"LT": v, "G1": 2, "G2": 2}) for i, v in enumerate(values)]
    one_by_one = Driver(registry)
    singles = [t for r in records for t in one_by_one.engine.process(readings=[r]) if t["rule"] == "limit"]
    together = [t for t in Driver(registry).engine.process(readings=records) if t["rule"] == "limit"]
    assert [(t["id"], t["transition"]) for t in singles] == [(t["id"], t["transition"]) for t in together]
    assert [t["transition"] for t in singles] == ["confirmed", "escalated", "cleared"]


def test_state_survives_dump_and_load(registry: Registry) -> None:
    straight = Driver(registry)
    straight.series("LT", [11, 11, 11, 11, 16, 16, 5, 5, 5, 5, 5])
    interrupted = Driver(registry)
    interrupted.series("LT", [11, 11, 11, 11, 16])
    saved = interrupted.engine.dump("TESTENT01")
    restarted = Driver(registry)
    restarted.engine.load("TESTENT01", saved)
    restarted.series("LT", [16, 5, 5, 5, 5, 5], start_s=50)
    combined = interrupted.out + restarted.out
    assert [(t["id"], t["transition"], t["level"]) for t in combined] == \
           [(t["id"], t["transition"], t["level"]) for t in straight.out]


def test_registry_change_takes_effect(registry: Registry, tmp_path: Path) -> None:
    driver = Driver(registry)
    driver.series("LT", [9, 9, 9, 9])
    assert summary(driver.out) == []
    lowered = write_registry(tmp_path / "changed", REGISTRY_YAML.replace("high: 10, high_high: 15", "high: 8, high_high: 15"))
    driver.engine.set_registry(lowered)
    driver.series("LT", [9, 9, 9, 9], start_s=40)
    assert summary(driver.out) == [("limit", "confirmed", "high")]
    assert driver.out[0]["limit"] == 8
