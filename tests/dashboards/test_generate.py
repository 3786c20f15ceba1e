"""Generation: the committed files are exactly what the code generates, limit lines equal the
registry's limits, every registered point is on its dashboard, and the language switch works."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hazmon.registry import Registry, load_registry
from hazmon.registry.models import PointType
from hazmon.series import LABEL_PATTERN
from hazmon.settings import Settings

from dashboards.boards import alarm_desk, fire, major_hazard, tailings
from dashboards.boards.common import TAG
from dashboards.generate import dashboard_models, generated_files, write_files
from dashboards.panels import series_name
from tests.dashboards.support import all_panels

CJK = re.compile(r"[\u4e00-\u9fff]")
_BOARD_TYPES = {major_hazard.UID: major_hazard.TYPES, fire.UID: fire.TYPES, tailings.UID: tailings.LIMIT_TYPES}


def test_committed_files_are_exactly_what_generation_gives(settings: Settings) -> None:
    # the committed files are what `hazmon dashboards build` gives with the default settings, so the
    # comparison must not see HAZMON_* overrides of this environment (ports, URLs, registry)
    defaults = Settings.model_construct(**{name: field.get_default(call_default_factory=True)
                                           for name, field in Settings.model_fields.items()})
    files = generated_files(load_registry(defaults.registry_dir), defaults, "zh")
    committed = {p.relative_to(settings.dashboards_dir) for p in settings.dashboards_dir.rglob("*") if p.is_file()}
    assert committed == set(files), "generated file set differs from the committed one: run `hazmon dashboards build`"
    for relative, content in files.items():
        assert (settings.dashboards_dir / relative).read_text(encoding="utf-8") == content, f"{relative} is stale"


def test_write_files_removes_stale_dashboards_and_skips_unchanged(tmp_path: Path, registry: Registry,
                                                                  settings: Settings) -> None:
    files = generated_files(registry, settings, "zh")
    stale = tmp_path / "dashboards" / "hazmon-gone.json"
    stale.parent.mkdir(parents=True)
    stale.write_text("{}")
    first = write_files(tmp_path, files)
    assert stale in first and not stale.exists()
    assert write_files(tmp_path, files) == []


def _limit_overrides(panel: dict) -> dict[str, list[float]]:
    """series name → threshold values (the base step excluded) of a panel's overrides."""
    result = {}
    for override in panel["fieldConfig"].get("overrides", []):
        for prop in override["properties"]:
            if prop["id"] == "thresholds":
                result[override["matcher"]["options"]] = [s["value"] for s in prop["value"]["steps"][1:]]
    return result


def _panel_of_type(model: dict, point_type: str) -> dict:
    return next(p for p in all_panels(model) if f"\"type\" = '{point_type}'" in p["targets"][0]["query"]
                and "derivative" not in p["targets"][0]["query"])


def test_limit_lines_equal_the_registry_limits(models: dict[str, dict], registry: Registry) -> None:
    checked = 0
    for uid, types in _BOARD_TYPES.items():
        for point_type in types:
            overrides = _limit_overrides(_panel_of_type(models[uid], point_type))
            entries = [e for e in registry if e.point.type.value == point_type]
            assert set(overrides) == {series_name(e) for e in entries}, f"{uid}/{point_type}: points differ"
            for entry in entries:
                expected = sorted(limit.threshold for limit in entry.limits.limits)
                if entry.point.type is PointType.WATER_LEVEL:
                    expected = sorted([*expected, entry.site.design.crest_elevation])
                assert overrides[series_name(entry)] == expected, f"{series_name(entry)} limit lines"
                checked += 1
    assert checked == len([e for e in registry if e.point.type.value in sum(_BOARD_TYPES.values(), ())])


def test_rainfall_lines_are_the_registry_rolling_limits(models: dict[str, dict], registry: Registry) -> None:
    gauges = [e for e in registry if e.point.type is PointType.RAINFALL]
    hourly = _panel_of_type(models[tailings.UID], "rainfall")
    assert _limit_overrides(hourly) == {series_name(e): [e.limits.high_1h] for e in gauges}
    daily = next(p for p in all_panels(models[tailings.UID]) if "now() - 24h" in p["targets"][0]["query"])
    assert _limit_overrides(daily) == {series_name(e): [e.limits.high_24h] for e in gauges}


def test_water_level_lines_are_flood_level_freeboard_and_crest(models: dict[str, dict], registry: Registry) -> None:
    entry = next(e for e in registry if e.point.type is PointType.WATER_LEVEL)
    design = entry.site.design
    lines = _limit_overrides(_panel_of_type(models[tailings.UID], "water_level"))[series_name(entry)]
    assert lines == [design.flood_level, design.crest_elevation - design.min_freeboard, design.crest_elevation]


def test_domain_variables_are_chained_influxdb_queries(models: dict[str, dict]) -> None:
    """Enterprise → pond → point, each read from InfluxDB at load and following the ones before it, the registry's
    "<id> <name>" labels split by the regex (what they list: tests/dashboards/test_variables.py, on the real InfluxDB)."""
    variables = {v["name"]: v for v in models[tailings.UID]["templating"]["list"]}
    assert list(variables) == ["enterprise", "pond", "point", "reading_rp", "reading_sum"]
    assert variables["reading_rp"]["hide"] == variables["reading_sum"]["hide"] == 2   # chosen by the range, not shown
    follows = {"enterprise": [], "pond": ["$enterprise"], "point": ["$enterprise", "$pond"]}
    for name, before in follows.items():
        variable = variables[name]
        assert variable["type"] == "query" and variable["refresh"] == 1, name      # read when the dashboard loads
        assert variable["query"].startswith('SHOW TAG VALUES FROM "registry_point" WITH KEY = '), name
        assert variable["regex"] == LABEL_PATTERN, name
        assert [v for v in ("$enterprise", "$pond") if v in variable["query"]] == before, name
        assert variable["multi"] and variable["includeAll"] and variable["allValue"] == ".*"


def test_every_dashboard_links_to_the_others_and_to_the_desk(models: dict[str, dict], settings: Settings) -> None:
    from dashboards.generate import api_url

    for uid, model in models.items():
        links = {link["type"]: link for link in model["links"] if link["type"] == "dashboards"}
        assert links["dashboards"]["tags"] == [TAG] and links["dashboards"]["keepTime"], uid
        urls = [link["url"] for link in model["links"] if link["type"] == "link"]
        assert urls == [f"{api_url(settings)}/desk", f"{api_url(settings)}/desk/report"], uid
        assert model["tags"] == [TAG], uid     # so that the others' tag link lists it


def test_the_desk_links_follow_the_settings(registry: Registry, settings: Settings) -> None:
    moved = settings.model_copy(update={"dashboards_api_url": "https://desk.county.example/"})
    for model in dashboard_models(registry, moved, "zh").values():
        assert [link["url"] for link in model["links"] if link["type"] == "link"] == [
            "https://desk.county.example/desk", "https://desk.county.example/desk/report"]


def test_open_alarm_rows_link_to_the_alarm_page(models: dict[str, dict], settings: Settings) -> None:
    from dashboards.generate import api_url

    desk = models[alarm_desk.UID]
    table = next(p for p in all_panels(desk) if p["type"] == "table")
    links = [prop["value"][0]["url"] for o in table["fieldConfig"]["overrides"] for prop in o["properties"]
             if prop["id"] == "links"]
    assert links and all(url == f"{api_url(settings)}/alarms/${{__data.fields.id}}" for url in links)


def test_english_generation_has_no_chinese_titles(models_en: dict[str, dict], models: dict[str, dict]) -> None:
    for uid, model in models_en.items():
        titles = [model["title"], *(p.get("title", "") for p in all_panels(model))]
        assert not any(CJK.search(t) for t in titles), f"{uid}: {titles}"
        assert CJK.search(models[uid]["title"]), "Chinese is the default language"


def test_a_larger_county_gives_every_point_its_own_override(tmp_path: Path, settings: Settings) -> None:
    """Twenty copies of each sample enterprise: the same point ids recur, and each series stays apart."""
    for source in sorted(settings.registry_dir.glob("*.yaml")):
        text = source.read_text(encoding="utf-8")
        enterprise = re.search(r'id: "(\w+)"', text).group(1)
        for copy in range(20):
            new_id = f"{enterprise[:-3]}{copy:03d}"
            (tmp_path / f"{new_id}.yaml").write_text(text.replace(enterprise, new_id), encoding="utf-8")
    county = load_registry(tmp_path)
    models = dashboard_models(county, settings, "zh")
    for model in models.values():
        for panel in all_panels(model):
            names = [o["matcher"]["options"] for o in panel.get("fieldConfig", {}).get("overrides", [])]
            assert len(names) == len(set(names)), f"{model['uid']}/{panel['title']}: an override name repeats"
    tanks = _limit_overrides(_panel_of_type(models[major_hazard.UID], "tank_level"))
    assert len(tanks) == 20 and all(lines == [9.0, 10.5] for lines in tanks.values())
    sample = dashboard_models(load_registry(settings.registry_dir), settings, "zh")
    for uid, model in models.items():    # the selections come from InfluxDB: a larger registry changes none
        assert model["templating"] == sample[uid]["templating"], uid


@pytest.mark.parametrize("language", ["zh", "en"])
def test_every_point_series_is_named_as_officers_read_it(registry: Registry, settings: Settings, language: str) -> None:
    """§10: a point's series (``enterprise/point``) is shown by its site's and its own name, never by an id, in every
    panel that draws one (the rolling rainfall stats too)."""
    ids = {*registry.enterprises, *(e.site.id for e in registry), *(e.point.id for e in registry)}
    named: set[str] = set()
    for uid, model in dashboard_models(registry, settings, language).items():
        for panel in all_panels(model):
            for override in panel.get("fieldConfig", {}).get("overrides", []):
                series = override["matcher"]["options"]
                if series not in {series_name(e) for e in registry}:
                    continue
                names = [p["value"] for p in override["properties"] if p["id"] == "displayName"]
                assert names, f"{uid}/{panel['title']}: {series} shown as its ids"
                assert not any(i in names[0].split() for i in ids), f"{uid}/{panel['title']}: {names[0]!r}"
                named.add(series)
    assert named == {series_name(e) for e in registry if e.point.type is not PointType.FIRE_DETECTOR and e.point.enabled}
