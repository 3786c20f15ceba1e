"""The county boundary shipped with the registry (``county.geojson``, issue 17's 风险一张图 with no internet):
the shapes county GIS exports load, a directory without one has none, and a wrong file is refused with every
problem and where it is, like an enterprise's file."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from device_sim.county import TOWNS
from hazmon.registry import Registry, RegistryError, load_registry
from hazmon.registry.boundary import BOUNDARY_FILE, BoundaryError, parse_boundary
from hazmon.registry.loader import fingerprint
from hazmon.settings import Settings
from hzctl.cli import main

SQUARE = [[109.7, 28.9], [109.9, 28.9], [109.9, 29.1], [109.7, 29.1], [109.7, 28.9]]
HOLE = [[109.75, 28.95], [109.75, 29.0], [109.8, 29.0], [109.8, 28.95], [109.75, 28.95]]


def inside(lon: float, lat: float, ring: tuple[tuple[float, float], ...]) -> bool:
    """Ray casting: whether (lon, lat) lies within the closed ``ring``."""
    found = False
    for (x1, y1), (x2, y2) in zip(ring, ring[1:]):
        if (y1 > lat) != (y2 > lat) and lon < x1 + (lat - y1) * (x2 - x1) / (y2 - y1):
            found = not found
    return found


def test_the_sample_county_encloses_its_enterprises_and_the_simulated_towns(registry: Registry) -> None:
    assert registry.boundary is not None and registry.boundary.name == "永顺县"
    (outline,) = registry.boundary.polygons[0]
    for doc in registry.enterprises.values():
        assert inside(doc.enterprise.lon, doc.enterprise.lat, outline), doc.enterprise.name
    for town, (lat, lon) in TOWNS.items():     # device_sim places enterprises within 0.03° of these
        assert all(inside(lon + dx, lat + dy, outline) for dx in (-0.03, 0.03) for dy in (-0.03, 0.03)), town


@pytest.mark.parametrize("document", [
    {"type": "Polygon", "coordinates": [SQUARE, HOLE]},
    {"type": "Feature", "properties": {"name": "测试县"}, "geometry": {"type": "Polygon", "coordinates": [SQUARE, HOLE]}},
    {"type": "FeatureCollection", "features": [
        {"type": "Feature", "properties": {"name": "测试县"}, "geometry": {"type": "MultiPolygon", "coordinates": [[SQUARE, HOLE]]}}]},
])
def test_the_shapes_county_gis_exports(document: dict) -> None:
    boundary = parse_boundary(json.dumps(document))
    assert [[list(map(list, ring)) for ring in polygon] for polygon in boundary.polygons] == [[SQUARE, HOLE]]
    assert boundary.name == ("" if document["type"] == "Polygon" else "测试县")


@pytest.mark.parametrize(("document", "where", "words"), [
    ('{"type": "Polygon",\n "coordinates": [[1, 2]', "", "not valid JSON at line 2"),
    ({"type": "LineString", "coordinates": SQUARE}, "type", "expected a Polygon or MultiPolygon, not 'LineString'"),
    ({"type": "Polygon", "coordinates": [SQUARE[:-1]]}, "coordinates[0]", "not closed"),
    ({"type": "Polygon", "coordinates": [SQUARE[:2] + SQUARE[:1]]}, "coordinates[0]", "at least four positions"),
    ({"type": "Polygon", "coordinates": [[[28.9, 109.7], *SQUARE[1:]]]}, "coordinates[0][0]", "latitude within ±90"),
    ({"type": "Polygon", "coordinates": [[["109.7", 28.9], *SQUARE[1:]]]}, "coordinates[0][0]", "in numbers"),
    ({"type": "FeatureCollection", "features": []}, "features", "at least one feature"),
    ({"type": "FeatureCollection", "features": [{"type": "Feature", "geometry": None}]}, "features[0].geometry.type",
     "not None"),
])
def test_a_wrong_file_is_refused_saying_where(document: dict | str, where: str, words: str) -> None:
    with pytest.raises(BoundaryError) as refused:
        parse_boundary(document if isinstance(document, str) else json.dumps(document))
    assert any(field == where and words in message for field, message in refused.value.problems), refused.value.problems


def test_the_registry_refuses_a_wrong_boundary_with_its_other_problems(settings: Settings, tmp_path: Path,
                                                                       capsys: pytest.CaptureFixture[str]) -> None:
    directory = tmp_path / "registry"
    shutil.copytree(settings.registry_dir, directory)
    (directory / BOUNDARY_FILE).unlink()
    assert load_registry(directory).boundary is None                  # optional: the desk map draws the hull
    before = fingerprint(directory)
    (directory / BOUNDARY_FILE).write_text(json.dumps({"type": "MultiPolygon", "coordinates": [
        [SQUARE[:-1]], [SQUARE, [[109.8, 95.0], *HOLE[1:]]]]}), encoding="utf-8")
    assert fingerprint(directory) != before                          # a running desk reloads it
    with pytest.raises(RegistryError) as refused:
        load_registry(directory)
    assert [(p.file.name, p.field) for p in refused.value.problems] == [
        (BOUNDARY_FILE, "coordinates[0][0]"), (BOUNDARY_FILE, "coordinates[1][1][0]")]
    assert main(["registry", "check", str(directory)]) == 1
    printed = capsys.readouterr().out
    assert f"{directory / BOUNDARY_FILE}" in printed and "coordinates[1][1][0]" in printed and "not closed" in printed
