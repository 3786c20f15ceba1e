"""Registry loading (data standard §7): type defaults, and errors that name file, line and field."""

from __future__ import annotations

import textwrap
from pathlib import Path

import pytest

from hzctl.cli import main
from hazmon.registry import Registry, RegistryError, load_registry

HEADER = """\
enterprise: {id: "E1", name: "测试企业", town: "灵溪镇", lat: 29.0, lon: 109.8}
sites:
  - {id: TF01, name: "储罐区", kind: major_hazard}
  - {id: WK01, name: "尾矿库", kind: tailings_pond,
     design: {crest_elevation: 412.0, flood_level: 409.5, min_dry_beach: 70, min_freeboard: 0.7}}
points:
"""


def _write(tmp_path: Path, points: str, name: str = "e1.yaml", header: str = HEADER) -> Path:
    (tmp_path / name).write_text(header + textwrap.indent(textwrap.dedent(points), "  "), encoding="utf-8")
    return tmp_path


def _limits(registry: Registry, point: str) -> dict[str, float]:
    return {limit.level: limit.threshold for limit in registry.point("E1", point).limits.limits}


def test_sample_registry_loads(registry: Registry) -> None:
    assert len(registry.enterprises) == 3
    kinds = {site.kind.value for doc in registry.enterprises.values() for site in doc.sites}
    assert kinds == {"major_hazard", "tailings_pond", "fire_unit"}


def test_type_defaults_of_section_7(tmp_path: Path) -> None:
    registry = load_registry(_write(tmp_path, """\
        - {id: GAS, site: TF01, device: D1, type: combustible_gas, range: [0, 100], period_s: 5}
        - {id: HYD, site: TF01, device: D1, type: hydrant_pressure, range: [0, 1.6]}
        - {id: WL, site: WK01, device: D2, type: water_level, range: [380, 420], period_s: 600}
        - {id: BEACH, site: WK01, device: D2, type: dry_beach_length, range: [0, 300]}
        - {id: DS, site: WK01, device: D2, type: displacement, range: [0, 500], colors: {direction: above, red: 100}}
        - {id: RAIN, site: WK01, device: D2, type: rainfall, range: [0, 200], high_1h: 30}
        - {id: RAIN2, site: WK01, device: D2, type: rainfall, range: [0, 200], period_s: 300}
        """))
    assert _limits(registry, "GAS") == {"high": 25.0, "high_high": 50.0}
    assert _limits(registry, "HYD") == {"high": 1.0, "low": 0.15, "low_low": 0.10}
    assert _limits(registry, "WL") == {"orange": 409.5, "red": pytest.approx(411.3)}
    assert _limits(registry, "BEACH") == pytest.approx({"blue": 91.0, "yellow": 84.0, "orange": 77.0, "red": 70.0})
    assert _limits(registry, "DS") == pytest.approx({"blue": 40.0, "yellow": 60.0, "orange": 80.0, "red": 100.0})
    rain = registry.point("E1", "RAIN").limits
    assert (rain.high_1h, rain.high_24h) == (30, 50.0)
    rain = registry.point("E1", "RAIN2").limits
    assert (rain.high_1h, rain.high_24h) == (16.0, 50.0)   # §7 rev 1.1: GB/T 28592's 暴雨 lines
    assert registry.point("E1", "GAS").point.trend_window_s == 900          # §8: max(900 s, 6 × period_s)
    assert registry.point("E1", "WL").point.trend_window_s == 3600
    gas = registry.point("E1", "GAS").limits
    assert gas.confirm_s == 30.0            # max(3 × 5, 30)
    assert gas.deadband == pytest.approx(1.0)  # 1 % of the range
    assert registry.point("E1", "WL").limits.confirm_s == 600.0  # 3 × 600 capped at 600
    assert registry.point("E1", "HYD").limits.confirm_s == 180.0  # period_s defaults to 60


def test_registry_values_win_over_derived_ones(tmp_path: Path) -> None:
    registry = load_registry(_write(tmp_path, """\
        - {id: WL, site: WK01, device: D2, type: water_level, range: [380, 420], colors: {direction: above, orange: 409.0}}
        - {id: GAS, site: TF01, device: D1, type: combustible_gas, range: [0, 100], high: 20}
        """))
    assert _limits(registry, "WL") == {"orange": 409.0, "red": pytest.approx(411.3)}
    assert _limits(registry, "GAS") == {"high": 20.0, "high_high": 50.0}


@pytest.mark.parametrize(("points", "line", "field", "words"), [
    ("- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], hihg: 9}\n", 7, "points[0].hihg", "Extra inputs"),
    ("- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12]}\n", 7, "points[0].limits", "needs limits"),
    ("- {id: LT, site: NOPE, device: D1, type: tank_level, range: [0, 12], high: 9}\n", 7, "points[0].site", "not among"),
    ("- {id: LT, site: TF01, device: D1, type: tank_level, high: 9}\n", 7, "points[0].range", "needs range"),
    ("- {id: A, site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9}\n"
     "- {id: A, site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9}\n", 8, "points[1].id", "duplicate"),
    ("- {id: DS, site: WK01, device: D2, type: displacement, range: [0, 500]}\n", 7, "points[0].colors", "needs colors.red"),
    ("- {id: PZ, site: WK01, device: D2, type: phreatic_depth, range: [0, 30],\n"
     "   colors: {direction: below, blue: 4, red: 8}}\n", 8, "points[0].colors", "lower from blue to red"),
    ("- {id: LT, site: TF01, device: D1, type: tank_lvl, range: [0, 12], high: 9}\n", 7, "points[0].type", "Input should be"),
    ("- {id: 'bad id', site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9}\n", 7, "points[0].id", "pattern"),
    # a NaN limit compares false with every value (never an alarm); an infinite one is never reached
    ("- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], high: .nan}\n", 7, "points[0].high", "finite"),
    ("- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], high_high: .inf}\n", 7, "points[0].high_high",
     "finite"),
    ("- {id: PZ, site: WK01, device: D2, type: phreatic_depth, range: [0, 30],\n"
     "   colors: {direction: below, blue: .nan, red: 2}}\n", 8, "points[0].colors.blue", "finite"),
    ("- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9, deadband: .inf}\n", 7,
     "points[0].deadband", "finite"),
])
def test_errors_name_file_line_and_field(tmp_path: Path, points: str, line: int, field: str, words: str) -> None:
    _write(tmp_path, points)
    with pytest.raises(RegistryError) as raised:
        load_registry(tmp_path)
    [problem] = raised.value.problems
    assert (problem.file.name, problem.line, problem.field) == ("e1.yaml", line, field)
    assert words in problem.message


def test_every_problem_of_a_directory_at_once(tmp_path: Path) -> None:
    _write(tmp_path, "- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9}\n")
    (tmp_path / "broken.yaml").write_text("enterprise: [unclosed\n", encoding="utf-8")
    _write(tmp_path, "- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9}\n", name="e1-again.yaml")
    with pytest.raises(RegistryError) as raised:
        load_registry(tmp_path)
    text = str(raised.value)
    assert "broken.yaml" in text and "not valid YAML" in text
    assert "enterprise 'E1' is also registered" in text


def test_the_platforms_alarm_enterprise_is_no_enterprise_id(tmp_path: Path) -> None:
    """§9: enterprise ``platform`` carries the platform's own alarms (its data outage)."""
    _write(tmp_path, "- {id: GAS, site: TF01, device: D1, type: combustible_gas, range: [0, 100]}\n",
           header=HEADER.replace('id: "E1"', 'id: "platform"'))
    with pytest.raises(RegistryError, match="platform's own alarms"):
        load_registry(tmp_path)


def test_registry_check_command(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    _write(tmp_path, "- {id: LT, site: TF01, device: D1, type: tank_level, range: [0, 12], high: 9}\n")
    assert main(["registry", "check", str(tmp_path)]) == 0
    assert "OK, 1 enterprises, 1 devices, 1 points" in capsys.readouterr().out
    _write(tmp_path, "- {id: LT, site: TF01, device: D1, type: tank_level, range: [12, 0], high: 9}\n")
    assert main(["registry", "check", str(tmp_path)]) == 1
    assert f"{tmp_path / 'e1.yaml'}:7: points[0].range" in capsys.readouterr().out


def test_registry_check_warns_about_unnamed_points_and_accepts_them(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """§7 makes a point's name optional; officers then read it by its quantity (§10): a warning, not a refusal."""
    _write(tmp_path, """\
        - {id: DS1, site: WK01, device: G1, type: displacement, range: [0, 500], colors: {direction: above, red: 100}}
        - {id: DS2, site: WK01, device: G1, type: displacement, range: [0, 500], colors: {direction: above, red: 100}}
        - {id: WL, name: "库水位", site: WK01, device: G1, type: water_level, range: [380, 420]}
        """)
    assert main(["registry", "check", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert f"warning: {tmp_path / 'e1.yaml'}:7: points[0].name: point 'DS1' has no name: officers will read it as '坝体位移 1'" in out
    assert f"{tmp_path / 'e1.yaml'}:8: points[1].name: point 'DS2'" in out and "'WL'" not in out
    assert "OK, 1 enterprises, 1 devices, 3 points, 2 unnamed" in out
