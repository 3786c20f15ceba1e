"""The domain dashboards' enterprise → site → point variables are InfluxDB queries: run on the real InfluxDB
after the simulated county was written, each lists, as Grafana shows it, the registry's names (§10: officers
see names, never internal codes) of exactly what is registered for its domain and what the variables before
it select, while the value Grafana puts in the panels' queries is the id they filter by; an enterprise the
registry gained after the dashboards were generated is listed, by name, once ``hazmon dashboards locations``
wrote the registry again (no rebuild of the dashboards), and one it lost no longer is."""

from __future__ import annotations

import re
import shutil
from pathlib import Path

import aiohttp
import pytest

from hazmon.registry import Registry, load_registry
from hazmon.registry.loader import PointEntry
from hazmon.registry.names import point_name
from hazmon.series import READING
from hazmon.settings import Settings

from dashboards.boards import fire, major_hazard, tailings
from dashboards.locations import write_locations
from tests.dashboards.support import all_panels
from tests.dashboards.test_queries_influx import grafana_interpolate

pytestmark = pytest.mark.servers

DOMAIN_TYPES = {major_hazard.UID: set(major_hazard.TYPES), fire.UID: set(fire.TYPES),
                tailings.UID: {*tailings.LIMIT_TYPES, "rainfall"}}
SITE_VARIABLE = {major_hazard.UID: "site", fire.UID: "site", tailings.UID: "pond"}
CJK = re.compile(r"[\u4e00-\u9fff]")

Option = tuple[str, str]   # (text officers see, value the queries get)


def selection_variables(model: dict) -> dict[str, dict]:
    return {v["name"]: v for v in model["templating"]["list"] if v["type"] == "query" and v.get("includeAll")}


def javascript_regex(regex: str) -> re.Pattern[str]:
    """A variable's ``/pattern/flags`` regex as Python's ``re`` reads it: JavaScript's named group ``(?<name>``
    is Python's ``(?P<name>``; the patterns here use nothing else that the two read differently."""
    match = re.fullmatch(r"/(.*)/([gimsuy]*)", regex, re.DOTALL)
    assert match, regex
    assert set(match.group(2)) <= {"i"}, regex
    return re.compile(re.sub(r"\(\?<(\w+)>", r"(?P<\1>", match.group(1)), re.IGNORECASE if match.group(2) else 0)


def grafana_options(values: list[str], regex: str) -> list[Option]:
    """The options Grafana 11's query variable makes of the values its query returned (metricNamesToVariableValues
    of @grafana/scenes): a value the regex does not match is dropped; the named groups ``text`` and ``value``
    give the option's text and value (either standing for the other when absent), else the first group both;
    one option per value, the first kept."""
    pattern = javascript_regex(regex) if regex else None
    options: dict[str, str] = {}
    for raw in values:
        text = value = raw
        if pattern is not None:
            match = pattern.search(raw)
            if match is None:
                continue
            groups = {k: v for k, v in match.groupdict().items() if v}
            if "value" in groups or "text" in groups:
                value = groups.get("value", groups.get("text", raw))
                text = groups.get("text", value)
            elif match.lastindex:
                text = value = match.group(1)
        options.setdefault(value, text)
    return [(text, value) for value, text in options.items()]


async def influx_values(settings: Settings, database: str, query: str) -> list[str]:
    """What Grafana's InfluxDB data source takes from a variable query's answer: each row's second column."""
    async with aiohttp.ClientSession() as session, session.post(
            f"{settings.influx_url}/query", data={"db": database, "q": query}) as response:
        body = await response.json()
    assert response.status == 200, body
    result = body["results"][0]
    assert "error" not in result, f"{result['error']}\n{query}"
    return [row[1] for one in result.get("series", []) for row in one["values"]]


def interpolate(query: str, chosen: dict[str, list[str] | str]) -> str:
    """``query`` with the variables before it set as Grafana's InfluxDB data source puts them in: ``.*`` for
    all, a value as it is, several as ``(a|b)`` (ids of §1 hold no regex characters to escape)."""
    for name, value in sorted(chosen.items(), key=lambda kv: -len(kv[0])):
        query = query.replace(f"${name}", value if isinstance(value, str) else "(" + "|".join(value) + ")")
    return query


async def options(settings: Settings, database: str, variable: dict, chosen: dict[str, list[str] | str]) -> list[Option]:
    """The options Grafana lists for ``variable`` with the variables before it set to ``chosen``."""
    return grafana_options(await influx_values(settings, database, interpolate(variable["query"], chosen)),
                           variable.get("regex", ""))


def registered(registry: Registry, uid: str) -> list[PointEntry]:
    """The enabled registry points on ``uid``'s domain."""
    return [e for e in registry if e.point.type.value in DOMAIN_TYPES[uid] and e.point.enabled]


def enterprise_options(registry: Registry, points: list[PointEntry]) -> set[Option]:
    return {(registry.enterprises[e.enterprise].enterprise.name, e.enterprise) for e in points}


def site_options(points: list[PointEntry]) -> set[Option]:
    return {(e.site.name, e.site.id) for e in points}


def point_options(registry: Registry, points: list[PointEntry]) -> set[Option]:
    return {(point_name(registry, e, "zh"), e.point.id) for e in points}


def assert_officers_read_names(listed: list[Option]) -> None:
    """§10: every option's text is a name in Chinese, none is or holds an id."""
    ids = {value for _text, value in listed}
    for text, _value in listed:
        assert CJK.search(text), f"{text!r} is not a name"
        assert not any(i in text for i in ids), f"{text!r} shows an id"


@pytest.mark.parametrize("uid", sorted(DOMAIN_TYPES))
async def test_each_variable_lists_the_names_of_its_domain_and_selection(
        influxdb: Settings, county: str, registry: Registry, models: dict[str, dict], uid: str) -> None:
    variables = selection_variables(models[uid])
    site_var = SITE_VARIABLE[uid]
    points = registered(registry, uid)
    assert points, uid
    everything: dict[str, list[str] | str] = {"enterprise": ".*", site_var: ".*"}
    listed = await options(influxdb, county, variables["enterprise"], {})
    assert_officers_read_names(listed)
    assert set(listed) == enterprise_options(registry, points)
    listed = await options(influxdb, county, variables[site_var], everything)
    assert_officers_read_names(listed)
    assert set(listed) == site_options(points)
    listed = await options(influxdb, county, variables["point"], everything)
    assert_officers_read_names(listed)
    assert set(listed) == point_options(registry, points)
    for enterprise in sorted({e.enterprise for e in points}):
        own = [e for e in points if e.enterprise == enterprise]
        assert set(await options(influxdb, county, variables[site_var], {"enterprise": enterprise})) == site_options(own)
        site = own[0].site.id
        chosen: dict[str, list[str] | str] = {"enterprise": enterprise, site_var: site}
        assert set(await options(influxdb, county, variables["point"], chosen)) == point_options(
            registry, [e for e in own if e.site.id == site])
    both = sorted(registry.enterprises)[:2]
    assert set(await options(influxdb, county, variables[site_var], {"enterprise": both})) == site_options(
        [e for e in points if e.enterprise in both])


@pytest.mark.parametrize("uid", sorted(DOMAIN_TYPES))
async def test_the_chosen_names_select_their_points_in_the_panels(
        influxdb: Settings, county: str, registry: Registry, models: dict[str, dict], uid: str) -> None:
    """An officer picks an enterprise and a site by name; each reading panel then shows exactly that site's points."""
    variables = selection_variables(models[uid])
    site_var = SITE_VARIABLE[uid]
    enterprise = (await options(influxdb, county, variables["enterprise"], {}))[0][1]
    site = (await options(influxdb, county, variables[site_var], {"enterprise": enterprise}))[0][1]
    chosen = {"$enterprise": enterprise, f"${site_var}": site}
    readings = [t["query"] for p in all_panels(models[uid]) for t in p.get("targets", []) if f'."{READING}"' in t["query"]]
    assert readings, uid
    shown: set[tuple[str, str]] = set()
    for query in (grafana_interpolate(q, chosen) for q in readings):
        async with aiohttp.ClientSession() as session, session.post(
                f"{influxdb.influx_url}/query", data={"db": county, "q": query}) as response:
            result = (await response.json())["results"][0]
        assert "error" not in result, f"{result['error']}\n{query}"
        shown |= {(s["tags"]["enterprise"], s["tags"]["point"]) for s in result.get("series", [])}
    types = {t for q in readings for t in re.findall(r'"type" = \'(\w+)\'', q)}
    expected = {(e.enterprise, e.point.id) for e in registered(registry, uid)
                if (e.enterprise, e.site.id) == (enterprise, site) and e.point.type.value in types}
    assert expected and shown == expected


NEWCOMER_ID = "91433127MA4NEWC004"
NEWCOMER = """enterprise: {id: "91433127MA4NEWC004", name: "永顺县新来化工有限公司", town: "灵溪镇", lat: 29.0, lon: 109.85}
sites:
  - {id: NC01, name: "新来储罐区", kind: major_hazard, hazard_grade: 3}
points:
  - {id: NC01_LT, site: NC01, device: PLC1, type: tank_level, name: "新来1号储罐液位", range: [0, 10], high: 8}
"""


async def test_the_registry_gains_and_loses_enterprises_without_a_rebuild(
        settings: Settings, influxdb: Settings, county: str, registry: Registry, models: dict[str, dict],
        tmp_path: Path) -> None:
    """The models were generated from the sample registry; then one enterprise is added, another removed, and the
    registry written again as ``hazmon dashboards locations`` writes it."""
    variables = selection_variables(models[major_hazard.UID])
    directory = tmp_path / "registry"
    shutil.copytree(settings.registry_dir, directory)
    removed = sorted({e.enterprise for e in registered(registry, major_hazard.UID)})[0]
    (directory / registry.files[removed].relative_to(settings.registry_dir)).unlink()
    (directory / f"{NEWCOMER_ID}.yaml").write_text(NEWCOMER, encoding="utf-8")
    before = {value: text for text, value in await options(influxdb, county, variables["enterprise"], {})}
    assert removed in before and NEWCOMER_ID not in before
    await write_locations(load_registry(directory), influxdb.influx_url, county, influxdb.influx_headers)
    after = {value: text for text, value in await options(influxdb, county, variables["enterprise"], {})}
    assert after.get(NEWCOMER_ID) == "永顺县新来化工有限公司"
    assert removed not in after
    assert await options(influxdb, county, variables["point"], {"enterprise": NEWCOMER_ID, "site": ".*"}) == [
        ("新来1号储罐液位", "NC01_LT")]
