"""The county's administrative boundary, shipped with the registry: an optional GeoJSON file
(RFC 7946) ``county.geojson`` in the registry directory, for the desk's 风险一张图 with no internet.

The file holds a Polygon or MultiPolygon, bare, as a Feature or in a FeatureCollection of such features
(the shapes county GIS offices export); positions are ``[longitude, latitude]`` in WGS 84, each ring closed
(its last position its first) with at least four positions, the first ring of a polygon its outline and the
others its holes. ``properties.name`` of the first feature, when given, names the county on the map. A file
that does not follow this is refused with every problem, where it is (``features[0].geometry.coordinates[0][3]``),
like the enterprises' files.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

BOUNDARY_FILE = "county.geojson"

Position = tuple[float, float]          # (longitude, latitude)
Ring = tuple[Position, ...]
Polygon = tuple[Ring, ...]              # the outline, then its holes


@dataclass(frozen=True)
class CountyBoundary:
    name: str                           # properties.name, "" when the file gives none
    polygons: tuple[Polygon, ...]

    def positions(self) -> Iterator[Position]:
        for polygon in self.polygons:
            for ring in polygon:
                yield from ring


class BoundaryError(ValueError):
    """The boundary file's problems, each ``(field, message)``."""

    def __init__(self, problems: list[tuple[str, str]]) -> None:
        self.problems = problems
        super().__init__("; ".join(f"{where}: {what}" if where else what for where, what in problems))


def _position(value: object, where: str, problems: list[tuple[str, str]]) -> Position | None:
    if not (isinstance(value, list) and len(value) in (2, 3)
            and all(isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v) for v in value)):
        problems.append((where, f"a position is [longitude, latitude] in numbers, not {json.dumps(value)[:60]}"))
        return None
    lon, lat = float(value[0]), float(value[1])
    if not (-180 <= lon <= 180 and -90 <= lat <= 90):
        problems.append((where, f"[{lon}, {lat}] is not [longitude, latitude]: longitude within ±180, latitude within ±90"))
        return None
    return lon, lat


def _ring(value: object, where: str, problems: list[tuple[str, str]]) -> Ring | None:
    if not isinstance(value, list) or len(value) < 4:
        problems.append((where, "a ring is a list of at least four positions, the last the same as the first"))
        return None
    positions = [_position(p, f"{where}[{i}]", problems) for i, p in enumerate(value)]
    if any(p is None for p in positions):
        return None
    ring = tuple(p for p in positions if p is not None)
    if ring[0] != ring[-1]:
        problems.append((where, f"the ring is not closed: its last position {list(ring[-1])} is not its first {list(ring[0])}"))
        return None
    return ring


def _polygon(value: object, where: str, problems: list[tuple[str, str]]) -> Polygon | None:
    if not isinstance(value, list) or not value:
        problems.append((where, "a polygon is a list of rings: its outline, then its holes"))
        return None
    rings = [_ring(r, f"{where}[{i}]", problems) for i, r in enumerate(value)]
    return tuple(r for r in rings if r is not None) if all(r is not None for r in rings) else None


def _geometry(value: object, where: str, problems: list[tuple[str, str]]) -> list[Polygon]:
    kind = value.get("type") if isinstance(value, dict) else None
    if kind not in ("Polygon", "MultiPolygon"):
        problems.append((f"{where}.type" if where else "type", f"expected a Polygon or MultiPolygon, not {kind!r}"))
        return []
    assert isinstance(value, dict)
    at = f"{where}.coordinates" if where else "coordinates"
    coordinates = value.get("coordinates")
    if kind == "Polygon":
        polygon = _polygon(coordinates, at, problems)
        return [polygon] if polygon is not None else []
    if not isinstance(coordinates, list) or not coordinates:
        problems.append((at, "a MultiPolygon's coordinates are a list of polygons"))
        return []
    polygons = [_polygon(p, f"{at}[{i}]", problems) for i, p in enumerate(coordinates)]
    return [p for p in polygons if p is not None]


def _name(feature: object) -> object:
    properties = feature.get("properties") if isinstance(feature, dict) else None
    return properties.get("name", "") if isinstance(properties, dict) else ""


def parse_boundary(text: str) -> CountyBoundary:
    """The boundary a ``county.geojson`` text describes; raises :class:`BoundaryError` with every problem."""
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise BoundaryError([("", f"not valid JSON at line {exc.lineno}, column {exc.colno}: {exc.msg}")]) from None
    problems: list[tuple[str, str]] = []
    kind = data.get("type") if isinstance(data, dict) else None
    polygons: list[Polygon] = []
    name: object = ""
    if kind == "FeatureCollection":
        assert isinstance(data, dict)
        features = data.get("features")
        if not isinstance(features, list) or not features:
            problems.append(("features", "a FeatureCollection needs at least one feature"))
            features = []
        for i, feature in enumerate(features):
            if not isinstance(feature, dict) or feature.get("type") != "Feature":
                problems.append((f"features[{i}]", "expected a Feature"))
                continue
            polygons += _geometry(feature.get("geometry"), f"features[{i}].geometry", problems)
        name = _name(features[0]) if features else ""
    elif kind == "Feature":
        assert isinstance(data, dict)
        polygons = _geometry(data.get("geometry"), "geometry", problems)
        name = _name(data)
    else:
        polygons = _geometry(data, "", problems)
    if not isinstance(name, str):
        problems.append(("properties.name", "the county's name is a string"))
    if problems:
        raise BoundaryError(problems)
    return CountyBoundary(name.strip() if isinstance(name, str) else "", tuple(polygons))


def load_boundary(directory: Path) -> CountyBoundary | None:
    """``directory``'s ``county.geojson``, or None when it has none; raises :class:`BoundaryError`."""
    path = directory / BOUNDARY_FILE
    return parse_boundary(path.read_text(encoding="utf-8")) if path.is_file() else None
