"""联网率 and 在线率 (issue 17): sending in the period, online within 3 × the point's period, fire detectors
counted for neither, only the enterprises the officer may see."""

from __future__ import annotations

from hazmon.registry import PointType, load_registry
from hazmon.settings import Settings

from alerting.desk.connectivity import connectivity
from alerting.desk.readings import LastReading

CHEM, MINE = "91433127MA4CHEM001", "91433127MA4MINE002"
AT = 1_764_376_800_000


def test_sending_online_and_not_online_after_three_periods() -> None:
    registry = load_registry(Settings().registry_dir)
    reading_points = [e for e in registry.points.values() if e.point.type is not PointType.FIRE_DETECTOR]
    town_name = registry.enterprises[CHEM].enterprise.town
    town_points = [e for e in reading_points if registry.enterprises[e.enterprise].enterprise.town == town_name]
    last = {(CHEM, "TK01_LT"): LastReading(AT - 20_000, 9.4),        # period 10 s: online for 30 s
            (CHEM, "TK01_TT"): LastReading(AT - 31_000, 31.5)}       # sent, but more than 3 periods ago
    figures = connectivity(registry, lambda e: True, last, AT)
    county = figures.county
    assert (county.enterprises, county.enterprises_sending) == (len(registry.enterprises), 1)
    assert (county.points, county.points_sending, county.points_online) == (len(reading_points), 2, 1)
    town = figures.towns[town_name]
    assert (town.points, town.points_sending, town.points_online) == (len(town_points), 2, 1)
    assert town.online_rate == 1 / len(town_points)


def test_only_the_enterprises_the_officer_may_see() -> None:
    registry = load_registry(Settings().registry_dir)
    figures = connectivity(registry, lambda e: e == MINE, {(CHEM, "TK01_LT"): LastReading(AT, 9.4)}, AT)
    assert (figures.county.enterprises, figures.county.points_sending) == (1, 0)
    assert list(figures.towns) == [registry.enterprises[MINE].enterprise.town]
