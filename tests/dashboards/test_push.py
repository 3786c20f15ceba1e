"""``hazmon dashboards push``: its requests are Grafana's HTTP API, and a second push writes nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from hazmon.registry import Registry
from hazmon.settings import Settings

from dashboards.generate import dashboard_models
from dashboards.provisioning import FOLDER_UID, datasource_model
from dashboards.push import GrafanaPusher, PushReport
from dashboards.target import DATASOURCE_UID
from dashboards.text import Language, Texts
from tests.dashboards.fake_grafana import FakeGrafana

TOKEN = "glsa_test_token"


@pytest.fixture
async def grafana() -> AsyncIterator[FakeGrafana]:
    fake = await FakeGrafana().start()
    yield fake
    await fake.stop()


async def push(grafana: FakeGrafana, registry: Registry, settings: Settings, language: Language = "zh") -> PushReport:
    texts = Texts(language)
    return await GrafanaPusher(grafana.url, TOKEN).push(
        datasource_model(texts, settings.dashboards_influx_url, settings.influx_db), texts("folder"),
        dashboard_models(registry, settings, language))


async def test_first_push_creates_everything_through_grafana_api(grafana: FakeGrafana, registry: Registry,
                                                                 settings: Settings, models: dict[str, dict]) -> None:
    report = await push(grafana, registry, settings)
    assert len(report.created) == 2 + len(models) and not report.updated
    assert all(r.authorization == f"Bearer {TOKEN}" for r in grafana.requests)
    writes = [(r.method, r.path) for r in grafana.writes]
    assert writes == [("POST", "/api/datasources"), ("POST", "/api/folders")] + [("POST", "/api/dashboards/db")] * len(models)
    datasource = grafana.writes[0].body
    assert datasource["uid"] == DATASOURCE_UID and datasource["type"] == "influxdb"
    assert datasource["jsonData"]["dbName"] == settings.influx_db
    assert grafana.writes[1].body == {"title": Texts("zh")("folder"), "uid": FOLDER_UID}
    saved = {r.body["dashboard"]["uid"]: r.body for r in grafana.writes[2:]}
    assert set(saved) == set(models)
    for uid, body in saved.items():
        assert body["dashboard"] == models[uid] and body["folderUid"] == FOLDER_UID and body["overwrite"] is True


async def test_second_push_changes_nothing(grafana: FakeGrafana, registry: Registry, settings: Settings) -> None:
    await push(grafana, registry, settings)
    before = len(grafana.writes)
    report = await push(grafana, registry, settings)
    assert len(grafana.writes) == before, [(r.method, r.path) for r in grafana.writes[before:]]
    assert not report.changed and len(report.unchanged) == 2 + len(grafana.dashboards)


async def test_a_changed_language_updates_only_what_changed(grafana: FakeGrafana, registry: Registry,
                                                            settings: Settings) -> None:
    await push(grafana, registry, settings)
    before = len(grafana.writes)
    report = await push(grafana, registry, settings, "en")
    paths = [(r.method, r.path) for r in grafana.writes[before:]]
    assert ("PUT", f"/api/datasources/uid/{DATASOURCE_UID}") in paths and ("PUT", f"/api/folders/{FOLDER_UID}") in paths
    assert len(report.updated) == 2 + len(grafana.dashboards) and not report.created
    assert all(d["dashboard"]["version"] == 2 for d in grafana.dashboards.values())
