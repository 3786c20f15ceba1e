"""Every panel's and annotation's InfluxQL runs on the real InfluxDB after a simulated county was
written in the §9 schema (through alerting's line protocol), and returns the series the panel
expects: non-empty, from the measurement it names, with exactly the tags it groups by."""

from __future__ import annotations


import re

import aiohttp
import pytest

from hazmon.settings import Settings

from tests.dashboards.support import all_panels

pytestmark = pytest.mark.servers

# What Grafana puts in before a query reaches InfluxDB.
GRAFANA_MACROS = {"$timeFilter": "time > now() - 1h", "$__interval": "1m", "$enterprise": ".*", "$site": ".*",
                  "$pond": ".*", "$point": ".*", "$reading_rp": "raw", "$reading_sum": "value"}   # the last hour: raw readings


def grafana_interpolate(query: str, policy: dict[str, str] | None = None) -> str:
    """``query`` as Grafana sends it, over the last hour; ``policy``: other values of the reading policy variables."""
    for macro, value in {**GRAFANA_MACROS, **(policy or {})}.items():
        query = query.replace(macro, value)
    return query


def expected_measurement(query: str) -> str:
    return re.search(r'FROM (?:"\w+"\.)?"(\w+)"', query).group(1)     # "policy"."measurement" or "measurement"


def expected_tags(query: str) -> set[str]:
    """The tags of the outermost GROUP BY (a GROUP BY inside a subquery does not tag the result)."""
    at = query.rfind("GROUP BY ")
    if at < 0:
        return set()
    tail = query[at:]
    if tail.count(")") > tail.count("("):
        return set()
    return set(re.findall(r'"(\w+)"', re.sub(r"fill\([^)]*\)|time\([^)]*\)", "", tail)))


def targets(models: dict[str, dict]) -> list[tuple[str, dict]]:
    found = []
    for uid, model in models.items():
        for panel in all_panels(model):
            found += [(f"{uid}/{panel['title']}", target) for target in panel.get("targets", [])]
        found += [(f"{uid}/annotation {a['name']}", a["target"]) for a in model["annotations"]["list"]]
    return found




async def run(settings: Settings, database: str, query: str) -> dict:
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/query", data={"db": database, "q": query}) as response:
        body = await response.json()
    assert response.status == 200, body
    return body["results"][0]


async def check_target(settings: Settings, database: str, where: str, target: dict,
                       policy: dict[str, str] | None = None) -> None:
    """Raise AssertionError unless ``target`` returns non-empty series of its measurement and tags."""
    query = grafana_interpolate(target["query"], policy)
    result = await run(settings, database, query)
    assert "error" not in result, f"{where}: {result['error']}\n{query}"
    series = result.get("series", [])
    assert series, f"{where}: no series\n{query}"
    tags = expected_tags(query)
    for one in series:
        assert one["name"] == expected_measurement(query), f"{where}: measurement {one['name']}"
        assert set(one.get("tags", {})) == tags, f"{where}: tags {one.get('tags')} != {tags}"
        assert any(v is not None for row in one["values"] for v in row[1:]), f"{where}: only nulls"
    assert set(re.findall(r"\$tag_(\w+)", target.get("alias", ""))) <= tags, f"{where}: alias names other tags"


async def test_every_panel_query_returns_the_series_it_expects(influxdb: Settings, county: str,
                                                               models: dict[str, dict]) -> None:
    found = targets(models)
    for where, target in found:
        await check_target(influxdb, county, where, target)
    assert len(found) >= 30


@pytest.mark.parametrize("policy", ["minute", "hour"])
async def test_every_reading_panel_reads_the_aggregates_too(influxdb: Settings, county: str, models: dict[str, dict],
                                                             policy: str) -> None:
    """The county's readings are late when written, so the writer aggregated them (recorder.late_readings):
    each panel that reads the policy its range chooses returns its series from the aggregates as well."""
    found = [(where, target) for where, target in targets(models) if "$reading_rp" in target["query"]
             and not (policy == "hour" and "derivative(" in target["query"])]   # the county spans one hour: no rate
    for where, target in found:
        await check_target(influxdb, county, where, target, {"$reading_rp": policy, "$reading_sum": "sum"})
    assert len(found) >= 10


@pytest.mark.parametrize("query", [
    'SELECT mean("value") FROM "readings" WHERE $timeFilter GROUP BY "point"',            # misspelt measurement
    'SELECT mean("value") FROM "reading" WHERE $timeFilter AND "type" = \'tank-level\' GROUP BY "point"',
])
async def test_the_check_fails_a_query_without_data(influxdb: Settings, county: str, query: str) -> None:
    with pytest.raises(AssertionError, match="no series"):
        await check_target(influxdb, county, "bogus", {"query": query})


async def test_open_alarm_table_shows_the_escalated_level_once(influxdb: Settings, county: str,
                                                               models: dict[str, dict]) -> None:
    from dashboards.boards.alarm_desk import UID

    table = next(p for p in all_panels(models[UID]) if p["type"] == "table")
    result = await run(influxdb, county, grafana_interpolate(table["targets"][0]["query"]))
    rows = {s["tags"]["point"]: dict(zip(s["columns"], s["values"][0], strict=True)) for s in result["series"]}
    assert set(rows) == {"TK01_LT", "WK01_WL", "WK01_RAIN", "FAC1_Z07"}   # the closed BLD1_TANK is gone
    assert rows["TK01_LT"]["level"] == "high_high" and rows["TK01_LT"]["state"] == "acknowledged"
    assert len(result["series"]) == 4
