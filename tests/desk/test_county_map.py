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
