"""How officers name a registered point (data standard §10): the one rule the desk's pages and the
dashboards' variables share, so that a point is called the same everywhere and never by its id."""

from __future__ import annotations

from hazmon.registry.loader import PointEntry, Registry
from hazmon.registry.models import POINT_TYPE_NAMES


def point_name(registry: Registry, entry: PointEntry, language: str) -> str:
    """A point as officers read it (§10): its registry name, else its quantity, numbered among its site's points
    of that quantity when there are several (可燃气体浓度 2), never its id."""
    if entry.point.name:
        return entry.point.name
    quantity = POINT_TYPE_NAMES[entry.point.type][0 if language == "zh" else 1]
    alike = sorted(e.point.id for (enterprise, _), e in registry.points.items()
                   if enterprise == entry.enterprise and e.site.id == entry.site.id and e.point.type == entry.point.type)
    return quantity if len(alike) == 1 else f"{quantity} {alike.index(entry.point.id) + 1}"
