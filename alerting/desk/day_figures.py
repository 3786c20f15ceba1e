"""A day's figures per scope (issue 17): the county, each town and each enterprise, each with its 考核指标 (how the
day's alarms were handled, alerting/desk/assessment.py) and its 联网与在线 (alerting/desk/connectivity.py) side by
side. The daily report (alerting/desk/shift.py) shows these rows and the Grafana series
(alerting/desk/assessment_series.py) writes them; an enterprise with no alarm that day has its row too."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from hazmon import series
from hazmon.registry import Registry

from alerting.desk.assessment import Assessment, Figures
from alerting.desk.connectivity import Connectivity, CountyConnectivity


@dataclass(frozen=True)
class ScopeFigures:
    """One scope's row: ``scope`` is series.COUNTY_SCOPE, TOWN_SCOPE or ENTERPRISE_SCOPE."""

    scope: str
    town: str                       # the town's name; "" for the county
    enterprise: str                 # the enterprise's id (never shown to officers); "" for the county and a town
    name: str                       # the town's or the enterprise's name; "" for the county (its word is the caller's)
    handled: Figures
    reach: Connectivity | None      # None: InfluxDB could not be queried


def enterprise_town(registry: Registry, enterprise: str) -> str:
    doc = registry.enterprises.get(enterprise)
    return doc.enterprise.town if doc is not None else ""


def enterprise_name(registry: Registry, enterprise: str) -> str:
    doc = registry.enterprises.get(enterprise)
    return doc.enterprise.name if doc is not None else enterprise


def by_scope(registry: Registry, handled: Assessment, reach: CountyConnectivity | None,
             seen: Callable[[str], bool]) -> list[ScopeFigures]:
    """The county, each town (by name) and each enterprise (by name): the registered ones ``seen`` and any with
    alarms in ``handled`` (assessed over the alarms of those seen)."""
    enterprises = {e for e in registry.enterprises if seen(e)} | set(handled.enterprises)
    towns = {enterprise_town(registry, e) for e in enterprises} | set(handled.towns)

    def reached(scopes: Callable[[CountyConnectivity], dict[str, Connectivity]], key: str) -> Connectivity | None:
        return None if reach is None else scopes(reach).get(key, Connectivity())

    rows = [ScopeFigures(series.COUNTY_SCOPE, "", "", "", handled.county, None if reach is None else reach.county)]
    rows += [ScopeFigures(series.TOWN_SCOPE, town, "", town, handled.towns.get(town, Figures()),
                          reached(lambda r: r.towns, town)) for town in sorted(towns)]
    rows += [ScopeFigures(series.ENTERPRISE_SCOPE, enterprise_town(registry, e), e, enterprise_name(registry, e),
                          handled.enterprises.get(e, Figures()), reached(lambda r: r.enterprises, e))
             for e in sorted(enterprises, key=lambda e: (enterprise_name(registry, e), e))]
    return rows
