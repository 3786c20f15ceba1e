"""The county generator: valid registries, reproducible from a seed, quiet when left alone."""

from __future__ import annotations

import re
from pathlib import Path

from hazmon.registry import PointType, Registry, SiteKind, load_registry
from hazmon.settings import PACKAGE_DIR

from device_sim import generate
from device_sim.county import TOWNS, county_with_sample, write_county
from device_sim.scenario import ExpectedAlarm, Scenario

from tests.device_sim.conftest import START_MS
from tests.device_sim.truth_oracle import alarm_times


def test_fifty_enterprises_load_and_cover_the_three_domains(tmp_path: Path) -> None:
    files = write_county(tmp_path, 50, seed=7)
    registry = load_registry(tmp_path)
    assert len(files) == len(registry.enterprises) == 50
    kinds = {site.kind for e in registry.enterprises.values() for site in e.sites}
    assert kinds == set(SiteKind)
    assert {e.point.type for e in registry} == set(PointType)
    for enterprise in registry.enterprises.values():
        info = enterprise.enterprise
        assert info.town in TOWNS and 28.8 <= info.lat <= 29.4 and 109.5 <= info.lon <= 110.3
        assert info.name.startswith("永顺县")


def test_same_seed_same_files_other_seed_other_county(tmp_path: Path) -> None:
    first = [p.read_bytes() for p in write_county(tmp_path / "a", 12, seed=3)]
    again = [p.read_bytes() for p in write_county(tmp_path / "b", 12, seed=3)]
    other = [p.read_bytes() for p in write_county(tmp_path / "c", 12, seed=4)]
    assert first == again
    assert first != other


def test_a_county_left_alone_raises_no_limit_alarm(tmp_path: Path) -> None:
    write_county(tmp_path, 9, seed=11)
    registry = load_registry(tmp_path)
    quiet = Scenario(name="quiet", description="无注入", duration_s=1800, seed=1, enterprises=list(registry.enterprises))
    run = generate(quiet, registry, START_MS)
    assert len(run.readings()) > 100
    for entry in registry:
        if entry.point.type is PointType.FIRE_DETECTOR:
            continue
        for rule in ("limit", "fault"):
            alarm = ExpectedAlarm(enterprise=entry.enterprise, point=entry.id, rule=rule, from_s=0, to_s=1800)
            assert not alarm_times(registry, run, alarm), f"{entry.enterprise}/{entry.id} {rule}"


def test_the_county_command_writes_what_registry_check_accepts(tmp_path: Path, capsys) -> None:
    from hzctl.cli import main

    assert main(["sim", "county", "--enterprises", "6", "--seed", "2", "--out", str(tmp_path)]) == 0
    assert main(["registry", "check", str(tmp_path)]) == 0
    assert "OK, 6 enterprises" in capsys.readouterr().out


def assert_every_point_named(registry: Registry) -> None:
    """§7, §10: every point has a name in Chinese of its own within its site, which is no id."""
    seen: set[tuple[str, str, str]] = set()
    for entry in registry:
        name, where = entry.point.name, f"{entry.enterprise}/{entry.id}"
        assert name and re.search(r"[\u4e00-\u9fff]", name), where
        assert entry.id not in name and entry.point.device not in name, (where, name)
        assert (entry.enterprise, entry.site.id, name) not in seen, (where, name)
        seen.add((entry.enterprise, entry.site.id, name))


def test_the_generated_county_names_every_point_as_an_enterprise_does(tmp_path: Path) -> None:
    write_county(tmp_path, 60, seed=7)
    assert_every_point_named(load_registry(tmp_path))


def test_the_sample_registry_names_every_point(sample_registry: Registry) -> None:
    assert_every_point_named(sample_registry)


def test_a_county_written_by_an_earlier_version_is_brought_up_to_date(tmp_path: Path) -> None:
    """The demo's county is reused from run to run: one written before points had names gets them, and
    the files that did not change are left alone."""
    county_dir = county_with_sample(tmp_path, 6, 3, PACKAGE_DIR / "sample_registry")
    stale, kept = sorted(county_dir.glob("91*.yaml"))[:2]
    fresh = stale.read_text(encoding="utf-8")
    stale.write_text(re.sub(r'name: "?[^,"]*"?, (site:)', r"\1", fresh), encoding="utf-8")
    assert stale.read_text(encoding="utf-8") != fresh
    before = kept.stat().st_mtime_ns
    assert county_with_sample(tmp_path, 6, 3, PACKAGE_DIR / "sample_registry") == county_dir
    assert stale.read_text(encoding="utf-8") == fresh and kept.stat().st_mtime_ns == before
