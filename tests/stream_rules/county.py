"""A small test registry and a driver that feeds the engine whole devices at a time."""

from __future__ import annotations

from pathlib import Path

from hazmon.registry import Registry, load_registry
from hazmon.wire import AlarmTransition, Event, ReadingBatch
from stream_rules.engine import RuleEngine

ENT = "TESTENT01"
T0 = 1_764_376_800_000
REGISTRY_YAML = f"""
enterprise: {{id: "{ENT}", name: "测试企业", town: "灵溪镇", lat: 29.0, lon: 109.8}}
sites:
  - {{id: TF, name: "储罐区", kind: major_hazard, hazard_grade: 2}}
  - {{id: WK, name: "尾矿库", kind: tailings_pond, grade: 3,
     design: {{crest_elevation: 412.0, flood_level: 409.5, min_dry_beach: 70, min_freeboard: 0.7}}}}
  - {{id: BLD, name: "楼", kind: fire_unit}}
points:
  - {{id: LT, site: TF, device: RTU1, type: tank_level, range: [0, 20], high: 10, high_high: 15, period_s: 10}}
  - {{id: G1, site: TF, device: RTU1, type: combustible_gas, range: [0, 100], period_s: 10, group: ZONE}}
  - {{id: G2, site: TF, device: RTU1, type: combustible_gas, range: [0, 100], period_s: 10, group: ZONE}}
  - {{id: ST, site: TF, device: RTU2, type: temperature, range: [-20, 80], high: 60, period_s: 10, stuck_s: 60}}
  - {{id: TR, site: TF, device: RTU3, type: pressure, range: [0, 10], high: 8, high_high: 9, period_s: 60,
     rate_per_h: 1.0, trend_window_s: 600}}
  - {{id: RAIN, site: WK, device: GNSS, type: rainfall, range: [0, 200], period_s: 300, high_1h: 30}}
  - {{id: D1, site: WK, device: GNSS, type: displacement, range: [0, 500], colors: {{direction: above, red: 100}}, period_s: 300}}
  - {{id: D2, site: WK, device: GNSS, type: displacement, range: [0, 500], colors: {{direction: above, red: 100}}, period_s: 300}}
  - {{id: D3, site: WK, device: GNSS, type: displacement, range: [0, 500], colors: {{direction: above, red: 100}}, period_s: 300}}
  - {{id: D4, site: WK, device: GNSS, type: displacement, range: [0, 500], colors: {{direction: above, red: 100}}, period_s: 300}}
  - {{id: Z1, site: BLD, device: FAC1, type: fire_detector}}
"""
DEVICES = {"RTU1": ["LT", "G1", "G2"], "RTU2": ["ST"], "RTU3": ["TR"], "GNSS": ["RAIN", "D1", "D2", "D3", "D4"]}
NORMAL = {"LT": 5.0, "G1": 2.0, "G2": 2.0, "ST": 20.0, "TR": 5.0, "RAIN": 0.0, "D1": 10.0, "D2": 10.0, "D3": 10.0, "D4": 10.0}


def write_registry(directory: Path, text: str = REGISTRY_YAML) -> Registry:
    directory.mkdir(parents=True, exist_ok=True)
    (directory / f"{ENT}.yaml").write_text(text, encoding="utf-8")
    return load_registry(directory)


def record(device: str, ts: int, values: dict[str, float], quality: dict[str, int] | None = None) -> ReadingBatch:
    points = list(values)
    quality = quality or {}
    return {"v": 1, "enterprise": ENT, "device": device, "recv_ms": ts, "points": points, "ts": [ts] * len(points),
            "values": [values[p] for p in points], "q": [quality.get(p, 0) for p in points], "ts_src": [0] * len(points)}


def controller_event(name: str, ts_s: float) -> Event:
    """An event of the fire alarm controller on detector Z1, ``ts_s`` seconds after T0."""
    return {"v": 1, "enterprise": ENT, "device": "FAC1", "point": "Z1", "event": name,  # type: ignore[typeddict-item]
            "ts": T0 + int(ts_s * 1000), "ts_src": 0, "text": "3F", "recv_ms": T0}


class Driver:
    """Feeds every device each step (so no device goes silent unless told), collects transitions."""

    def __init__(self, registry: Registry, devices: tuple[str, ...] = tuple(DEVICES)) -> None:
        self.engine = RuleEngine(registry, clock=lambda: 0)
        self.devices = devices
        self.out: list[AlarmTransition] = []
        self.step_no = 0

    def step(self, seconds: float, overrides: dict[str, float] | None = None,
             quality: dict[str, int] | None = None) -> list[AlarmTransition]:
        ts = T0 + int(seconds * 1000)
        overrides = overrides or {}
        self.step_no += 1
        records = []
        for device in self.devices:
            values = {p: overrides.get(p, NORMAL[p] + (0.01 * (self.step_no % 2) if p == "ST" else 0.0)) for p in DEVICES[device]}
            records.append(record(device, ts, values, quality))
        new = self.engine.process(readings=records)
        self.out += new
        return new

    def series(self, point: str, values: list[float], period_s: float = 10, start_s: float = 0) -> list[AlarmTransition]:
        new: list[AlarmTransition] = []
        for i, value in enumerate(values):
            new += self.step(start_s + i * period_s, {point: value})
        return new


def summary(transitions: list[AlarmTransition], rule: str | None = None) -> list[tuple[str, str, str | None]]:
    return [(t["rule"], t["transition"], t["level"]) for t in transitions if rule is None or t["rule"] == rule]
