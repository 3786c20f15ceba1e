"""Tailings pond roll-up, GB 39496-2020 §5.5.4: within a monitored item (a point type on a pond)
4 points at blue or worse make it yellow, 3 at yellow or worse orange, 2 at orange or worse red;
items roll up to the pond the same way. The pond's colour is the worst of its roll-up and points.
"""

from __future__ import annotations

from hazmon.registry.limits import COLOR_ORDER
from stream_rules.alarms import AlarmBook, Change
from stream_rules.catalog import Catalog

# (how many at this severity or worse, severity) → the colour they make, checked worst first
ROLLUP_STEPS: tuple[tuple[int, int, int], ...] = ((2, 3, 4), (3, 2, 3), (4, 1, 2))


def roll_up(severities: list[int]) -> int:
    """Colour severity (0 none, 1 blue … 4 red) that ``severities`` make together, by count alone."""
    for count, severity, result in ROLLUP_STEPS:
        if sum(1 for s in severities if s >= severity) >= count:
            return result
    return 0


def pond_colour(items: dict[str, list[int]]) -> tuple[int, int, dict[str, int]]:
    """(pond colour, worst point colour, colour per item) from each item's point colours."""
    item_colours = {item: max(max(points, default=0), roll_up(points)) for item, points in items.items()}
    worst_point = max((max(points, default=0) for points in items.values()), default=0)
    pond = max(max(item_colours.values(), default=0), roll_up(list(item_colours.values())))
    return pond, worst_point, item_colours


def judge_ponds(catalog: Catalog, book: AlarmBook, reading_ts: int) -> None:
    """Open, change or clear each pond's roll-up alarm; it exists while the roll-up is worse than every point."""
    for site_id, site in catalog.ponds.items():
        items: dict[str, list[int]] = {}
        for rules in catalog.rules:
            entry = rules.entry
            if entry.site.id != site_id or entry.limits.form != "colors":
                continue
            alarm = book.open.get(f"limit|{entry.id}|{entry.limits.limits[0].direction}")
            items.setdefault(entry.point.type.value, []).append(alarm.severity if alarm else 0)
        pond, worst_point, item_colours = pond_colour(items)
        key = f"rollup|{site_id}"
        subject = catalog.site_subject(site)
        extra: dict[str, float | str | None] = {f"item_{k}": COLOR_ORDER[v - 1] if v else None for k, v in item_colours.items()}
        if pond > worst_point:
            book.apply(Change("rollup", key, subject, COLOR_ORDER[pond - 1], pond, reading_ts, None, None, None, extra),
                       reading_ts)
        elif book.is_open(key):
            book.clear(Change("rollup", key, subject, None, 0, reading_ts, None, None, None, extra))
