"""§8 (revision 1.1) silence and status, each case as seen in the field: silence is judged per device
on the platform's receiving clock, status and data are ordered by device time, a platform outage is
one platform alarm, and a single silent channel is a fault of that point."""

from __future__ import annotations

from pathlib import Path

import pytest

from hazmon.registry import Registry, load_registry
from hazmon.wire import DeviceStatus, Quality, ReadingBatch, TsSource
from stream_rules.engine import RuleEngine
from tests.stream_rules.county import ENT, REGISTRY_YAML, T0, Driver

OTHER = "TESTENT02"
TWO_GATEWAYS = f"""
enterprise: {{id: "{OTHER}", name: "两网关企业", town: "灵溪镇", lat: 29.0, lon: 109.8}}
sites:
  - {{id: TF, name: "储罐区", kind: major_hazard, hazard_grade: 2}}
points:
  - {{id: A1, site: TF, device: GW1, type: tank_level, range: [0, 20], high: 10, high_high: 15, period_s: 10}}
  - {{id: A2, site: TF, device: GW1, type: tank_level, range: [0, 20], high: 10, high_high: 15, period_s: 60}}
  - {{id: B1, site: TF, device: GW2, type: tank_level, range: [0, 20], high: 10, high_high: 15, period_s: 10}}
"""


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    directory: Path = tmp_path_factory.mktemp("registry")
    (directory / f"{ENT}.yaml").write_text(REGISTRY_YAML, encoding="utf-8")
    (directory / f"{OTHER}.yaml").write_text(TWO_GATEWAYS, encoding="utf-8")
    return load_registry(directory)


def gateway(device: str, ts: int, recv: int, values: dict[str, float] | None = None) -> ReadingBatch:
    values = values or ({"A1": 5.0, "A2": 5.0} if device == "GW1" else {"B1": 5.0})
    points = list(values)
    return {"v": 1, "enterprise": OTHER, "device": device, "recv_ms": recv, "points": points, "ts": [ts] * len(points),
            "values": list(values.values()), "q": [0] * len(points), "ts_src": [0] * len(points)}


def offline(out: list) -> list[tuple[str, str]]:
    return [(t["device"], t["transition"]) for t in out if t["rule"] == "offline"]


def live(engine: RuleEngine, start_s: int, end_s: int, devices: tuple[str, ...] = ("GW1", "GW2"),
         skew_s: dict[str, int] | None = None) -> list:
    """Every device reports every 10 s of platform time, each stamping its own (possibly skewed) clock."""
    skew_s = skew_s or {}
    out = []
    for s in range(start_s, end_s, 10):
        recv = T0 + s * 1000
        out += engine.process(readings=[gateway(d, recv + skew_s.get(d, 0) * 1000, recv) for d in devices])
        out += engine.tick(recv)
    return out


@pytest.mark.parametrize("skew", [90, -90, 240, -240])
def test_a_device_clock_fast_or_slow_makes_no_other_device_offline(registry: Registry, skew: int) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    assert offline(live(engine, 0, 1200, skew_s={"GW1": skew})) == []


def test_a_gateway_uploading_its_buffered_hour_makes_no_sibling_offline(registry: Registry) -> None:
    """断点续传: both gateways lost the uplink for an hour; GW1 uploads its hour first, GW2 after it."""
    engine = RuleEngine(registry, clock=lambda: 0)
    out = live(engine, 0, 100)
    back = T0 + 3_700_000
    for device in ("GW1", "GW2"):          # the hour, in 10-minute messages, one gateway after the other
        for s in range(100, 3700, 600):
            recv = back + (s // 600) * 200 + (0 if device == "GW1" else 2_000)
            out += engine.process(readings=[gateway(device, T0 + s * 1000, recv)])
            out += engine.tick(recv)
    out += live(engine, 3710, 3900)
    assert offline(out) == []


def test_one_device_silent_while_its_sibling_reports_is_offline_once(registry: Registry) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    out = live(engine, 0, 100) + live(engine, 100, 400, devices=("GW1",))
    assert offline(out) == [("GW2", "raised")]
    raised = next(t for t in out if t["rule"] == "offline")
    assert raised["started_at"] == T0 + 90_000 + 30_000        # its last arrival + 3 × 10 s
    assert offline(live(engine, 400, 420)) == [("GW2", "cleared")]


def test_an_enterprise_that_sends_nothing_is_judged_by_the_tick_on_the_receiving_clock(registry: Registry) -> None:
    driver = Driver(registry)
    driver.step(0)
    out = live(driver.engine, 0, 200)                              # only the other enterprise reports
    assert {d for d, _ in offline(out) if d in ("RTU1", "RTU2", "RTU3", "GNSS")} == {"RTU1", "RTU2"}


def test_a_platform_outage_is_one_platform_alarm_and_no_device_offline(registry: Registry) -> None:
    """Broker or ingest down for 5 min: nothing arrives from anyone; the ticks go on."""
    engine = RuleEngine(registry, clock=lambda: 0)
    out = live(engine, 0, 100)
    for s in range(100, 400, 5):
        out += engine.tick(T0 + s * 1000)
    platform = [t for t in out if t["rule"] == "platform"]
    assert [(t["enterprise"], t["transition"]) for t in platform] == [("platform", "raised")]
    assert "平台" in platform[0]["message"] and platform[0]["started_at"] == T0 + 90_000
    out = live(engine, 400, 600)                                    # data back: judged on what arrives
    assert offline(out) == []
    assert [t["transition"] for t in out if t["rule"] == "platform"] == ["cleared"]


def test_a_restarts_backlog_after_a_tick_raises_nothing(registry: Registry) -> None:
    """A deadman tick that runs before a restart's backlog must not turn every device offline."""
    engine = RuleEngine(registry, clock=lambda: 0)
    out = live(engine, 0, 100)
    out += engine.tick(T0 + 600_000)                                # the worker was down 8 minutes
    backlog = [gateway(d, T0 + s * 1000, T0 + s * 1000) for s in range(100, 600, 10) for d in ("GW1", "GW2")]
    out += engine.process(readings=backlog)
    out += live(engine, 600, 700)
    assert offline(out) == []


def test_one_silent_channel_is_a_fault_of_that_point_not_an_offline_device(registry: Registry) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    out = []
    for s in range(0, 400, 10):                                     # A2 (period 60 s) never comes; A1 does
        recv = T0 + s * 1000
        out += engine.process(readings=[gateway("GW1", recv, recv, {"A1": 5.0}), gateway("GW2", recv, recv)])
    assert offline(out) == []
    faults = [(t["point"], t["transition"], t["extra"]["reason"]) for t in out if t["rule"] == "fault"]
    assert faults == [("A2", "raised", "silence")]
    bad = gateway("GW1", T0 + 400_000, T0 + 400_000, {"A1": 5.0, "A2": 5.0})
    bad["q"] = [Quality.BAD, Quality.GOOD]
    out = engine.process(readings=[bad])                            # A2 is back; A1's own fault is not hidden
    assert sorted((t["point"], t["transition"]) for t in out if t["rule"] == "fault") == [("A1", "raised"), ("A2", "cleared")]


def status(online: bool, ts: int, recv: int, source: TsSource = TsSource.MESSAGE) -> DeviceStatus:
    return {"v": 1, "enterprise": OTHER, "device": "GW2", "online": online, "ts": ts, "recv_ms": recv, "ts_src": source}


def test_newer_data_clears_an_offline_will_and_older_data_does_not(registry: Registry) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    live(engine, 0, 100)
    will = T0 + 100_000
    out = engine.process(statuses=[status(False, will, will, TsSource.PLATFORM)])
    assert offline(out) == [("GW2", "raised")] and out[0]["extra"]["reason"] == "status"
    stale = gateway("GW2", T0 + 90_000, will + 1_000)               # the tail of what it sent before: older
    assert offline(engine.process(readings=[stale])) == []
    out = live(engine, 110, 130)                                     # it reports again: newer data clears
    assert offline(out) == [("GW2", "cleared")]


def test_a_status_the_device_stamped_is_ordered_by_its_own_clock(registry: Registry) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    live(engine, 0, 100, skew_s={"GW2": -240})                       # GW2's clock is 4 min slow
    went = T0 + 100_000 - 240_000
    assert offline(engine.process(statuses=[status(False, went, T0 + 100_000)])) == [("GW2", "raised")]
    older = gateway("GW2", went - 5_000, T0 + 101_000, {"B1": 5.0})
    older["q"] = [Quality.BAD]
    assert engine.process(readings=[older]) == []                    # older: no clear, and its fault stays inhibited
    assert offline(live(engine, 110, 120, skew_s={"GW2": -240})) == [("GW2", "cleared")]


def test_online_status_clears_at_once(registry: Registry) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    live(engine, 0, 100)
    engine.process(statuses=[status(False, T0 + 100_000, T0 + 100_000)])
    assert offline(engine.process(statuses=[status(True, T0 + 101_000, T0 + 101_000)])) == [("GW2", "cleared")]


def test_silence_is_kept_across_a_dump_and_load(registry: Registry) -> None:
    engine = RuleEngine(registry, clock=lambda: 0)
    live(engine, 0, 100)
    restarted = RuleEngine(registry, clock=lambda: 0)
    for enterprise in list(engine.states):
        restarted.load(enterprise, engine.dump(enterprise))
    out = live(restarted, 100, 300, devices=("GW1",))
    assert offline(out) == [("GW2", "raised")]


def test_a_device_that_never_sent_data_goes_offline_and_back_across_a_restart(registry: Registry) -> None:
    """Seen in bench/pipeline.py under overload (devices' connections dropped before their first reading):
    the will of a device that had sent nothing, then ``online: true``, crashed the engine (a silence
    clock of −∞), and the will's "data must pass" time (−∞) was stored as null, so after a restart the
    device's first reading crashed it too; the worker restarted onto the same record for good."""
    engine = RuleEngine(registry, clock=lambda: 0)
    will = T0 + 100_000
    assert offline(engine.process(statuses=[status(False, will, will, TsSource.PLATFORM)])) == [("GW2", "raised")]
    restarted = RuleEngine(registry, clock=lambda: 0)
    restarted.load(OTHER, engine.dump(OTHER))
    assert offline(restarted.process(statuses=[status(True, will + 1_000, will + 1_000)])) == [("GW2", "cleared")]
    engine.process(statuses=[status(False, will + 2_000, will + 2_000, TsSource.PLATFORM)])
    restarted = RuleEngine(registry, clock=lambda: 0)
    restarted.load(OTHER, engine.dump(OTHER))
    assert offline(restarted.process(readings=[gateway("GW2", will + 3_000, will + 3_000)])) == [("GW2", "cleared")]
