"""风险一张图 (issue 17): each enterprise where its coordinates put it, coloured by its risk, offline marked."""

from __future__ import annotations

import re

from hazmon.registry import Registry

from alerting.desk.county_map import EnterpriseRisk, county_map_svg

RISKS = {"91433127MA4CHEM001": EnterpriseRisk("red", 3, 0), "91433127MA4MINE002": EnterpriseRisk("orange", 1, 2),
         "12433127MB1FIRE003": EnterpriseRisk("none", 0, 0)}


def _spots(svg: str) -> dict[str, tuple[str, str, float, float]]:
    found = {}
    for enterprise, color, offline, x, y in re.findall(
            r'data-enterprise="([^"]+)" data-color="(\w+)" data-offline="(\d+)">.*?<circle cx="([\d.]+)" cy="([\d.]+)" r="13"',
            svg):
        found[enterprise] = (color, offline, float(x), float(y))
    return found


def test_every_enterprise_coloured_and_placed_by_its_coordinates(registry: Registry) -> None:
    infos = [doc.enterprise for doc in registry.enterprises.values()]
    spots = _spots(county_map_svg(infos, RISKS.__getitem__, "zh"))
    assert {e: s[:2] for e, s in spots.items()} == {"91433127MA4CHEM001": ("red", "0"), "91433127MA4MINE002": ("orange", "2"),
                                                    "12433127MB1FIRE003": ("none", "0")}
    # 青天坪 lies north-west of 灵溪: further up (smaller y) and left (smaller x) on the map
    mine, chem = spots["91433127MA4MINE002"], spots["91433127MA4CHEM001"]
    assert mine[2] < chem[2] and mine[3] < chem[3]
    assert 'r="19"' in county_map_svg(infos, RISKS.__getitem__, "zh")   # MINE's two offline devices: ringed


def test_only_what_the_officer_may_see_and_names_escaped(registry: Registry) -> None:
    chem = registry.enterprises["91433127MA4CHEM001"].enterprise
    svg = county_map_svg([chem.model_copy(update={"name": "<script>x</script>化工"})], RISKS.__getitem__, "zh")
    assert list(_spots(svg)) == ["91433127MA4CHEM001"]
    assert "<script>" not in svg and "&lt;script&gt;x&lt;/script&gt;化工" in svg
    assert 'r="19"' not in svg                      # no device of it offline: no ring around it


def _path_box(svg: str) -> tuple[float, float, float, float]:
    """The bounding box (left, top, right, bottom) of the county boundary's path."""
    outline = re.search(r'<path id="county-boundary"[^>]* d="([^"]+)"', svg)
    assert outline, "no county boundary drawn"
    xy = [(float(x), float(y)) for x, y in re.findall(r"([\d.]+),([\d.]+)", outline.group(1))]
    return min(x for x, _ in xy), min(y for _, y in xy), max(x for x, _ in xy), max(y for _, y in xy)


def test_the_registrys_county_boundary_is_drawn_around_the_enterprises(registry: Registry) -> None:
    assert registry.boundary is not None
    infos = [doc.enterprise for doc in registry.enterprises.values()]
    svg = county_map_svg(infos, RISKS.__getitem__, "zh", registry.boundary)
    left, top, right, bottom = _path_box(svg)
    assert right - left > 400 or bottom - top > 400                      # the county fills the map
    spots = _spots(svg)
    assert set(spots) == set(RISKS)
    for enterprise, (_color, _offline, x, y) in spots.items():
        assert left < x < right and top < y < bottom, enterprise
    assert "enterprise-hull" not in svg and "浅色区域为永顺县行政区域" in svg and "非行政边界" not in svg
    # 人民医院 and 灵溪化工 are 400 m apart: on the county's map their spots are drawn apart, both to be clicked
    hospital, plant = spots["12433127MB1FIRE003"], spots["91433127MA4CHEM001"]
    assert ((hospital[2] - plant[2]) ** 2 + (hospital[3] - plant[3]) ** 2) ** 0.5 >= 29.9


def test_without_a_boundary_the_hull_and_it_says_so(registry: Registry) -> None:
    infos = [doc.enterprise for doc in registry.enterprises.values()]
    svg = county_map_svg(infos, RISKS.__getitem__, "zh")
    assert 'id="enterprise-hull"' in svg and "county-boundary" not in svg and "非行政边界" in svg
