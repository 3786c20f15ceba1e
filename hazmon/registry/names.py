"""How officers name a registered point, device or voting group (data standard §10): the one rule the rule
engine's alarm texts, the desk's pages and the dashboards' variables share, so that a thing is called the
same everywhere and never by its id; and the warning about points that have no name of their own."""

from __future__ import annotations

import yaml

from hazmon.registry.loader import PointEntry, Problem, Registry, _node_line
from hazmon.registry.models import POINT_TYPE_NAMES, PointType


def _zh(language: str) -> bool:
    return language == "zh"


def point_name(registry: Registry, entry: PointEntry, language: str) -> str:
    """A point as officers read it (§10): its registry name, else its quantity, numbered among its site's points
    of that quantity (in the order of their ids) when there are several (可燃气体浓度 2), never its id."""
    if entry.point.name:
        return entry.point.name
    quantity = POINT_TYPE_NAMES[entry.point.type][0 if _zh(language) else 1]
    place, alike = registry.alike[(entry.enterprise, entry.point.id)]
    return quantity if alike == 1 else f"{quantity} {place}"


def _listed(registry: Registry, entries: list[PointEntry], language: str) -> str:
    """The first of ``entries`` by name and how many there are: 库水位等6个测点, 库水位 and 5 more points."""
    first = point_name(registry, entries[0], language)
    if len(entries) == 1:
        return first
    more = len(entries) - 1
    return f"{first}等{len(entries)}个测点" if _zh(language) else f"{first} and {more} more point{'s' if more > 1 else ''}"


def device_name(registry: Registry, entries: list[PointEntry], language: str) -> str:
    """A device as officers read it (§10), given its points: what it is and the points it reports, the first by
    name (采集设备（1号储罐液位等12个测点）, 火灾报警控制器（3F 东走廊等6个测点）), never its id."""
    controller = all(e.point.type is PointType.FIRE_DETECTOR for e in entries)
    if _zh(language):
        return f"{'火灾报警控制器' if controller else '采集设备'}（{_listed(registry, entries, language)}）"
    return f"{'fire alarm controller' if controller else 'data logger'} ({_listed(registry, entries, language)})"


def group_name(registry: Registry, entries: list[PointEntry], language: str) -> str:
    """A voting group (§7 ``group``) as officers read it, given its members: their quantity and the first by
    name (可燃气体浓度联动组（1号可燃气体探测器等2个测点）), never its id."""
    quantity = POINT_TYPE_NAMES[entries[0].point.type][0 if _zh(language) else 1]
    if _zh(language):
        return f"{quantity}联动组（{_listed(registry, entries, language)}）"
    return f"{quantity} group ({_listed(registry, entries, language)})"


def unnamed_points(registry: Registry) -> list[Problem]:
    """One warning per point without a ``name``, with its file and line: §7 allows it, but officers then read
    the point by its quantity (坝体位移 2), not by what the enterprise calls it on site."""
    warnings: list[Problem] = []
    for enterprise, doc in registry.enterprises.items():
        path = registry.files[enterprise]
        root: yaml.Node | None = None
        for i, point in enumerate(doc.points):
            entry = registry.point(enterprise, point.id)
            if point.name or entry is None:
                continue
            root = root or yaml.compose(path.read_text(encoding="utf-8"), Loader=yaml.SafeLoader)
            warnings.append(Problem(path, _node_line(root, ["points", i]), f"points[{i}].name",
                                    f"point {point.id!r} has no name: officers will read it as "
                                    f"{point_name(registry, entry, 'zh')!r}; give it the name used on site (§7, §10)"))
    return warnings
