"""Generating every dashboard and the provisioning files from the registry and the settings.

The output is deterministic (sorted keys, fixed panel ids and positions), so the committed files
can be compared byte for byte with a fresh generation.
"""

from __future__ import annotations

import json
from pathlib import Path

from grafana_foundation_sdk.cog.encoder import JSONEncoder

from hazmon.registry import Registry
from hazmon.settings import Settings

from dashboards import provisioning
from dashboards.boards import alarm_desk, assessment, fire, major_hazard, overview, platform, tailings
from dashboards.boards.common import BoardContext
from dashboards.text import Language, Texts

BOARDS = (overview, alarm_desk, tailings, major_hazard, fire, platform, assessment)
DATASOURCES_FILE = Path("provisioning/datasources/hazmon.yaml")
PROVIDERS_FILE = Path("provisioning/dashboards/hazmon.yaml")
DASHBOARDS_DIR = Path("dashboards")


def api_url(settings: Settings) -> str:
    """Where the alarm desk links to: the API's public URL."""
    return (settings.dashboards_api_url or settings.alerting_public_url
            or f"http://{settings.api_host}:{settings.api_port}").rstrip("/")


def dashboard_models(registry: Registry, settings: Settings, language: Language) -> dict[str, dict]:
    """uid → dashboard JSON model, as Grafana stores it."""
    context = BoardContext(registry, Texts(language), api_url(settings))
    models = {}
    for board in BOARDS:
        model = json.loads(json.dumps(board.build(context).build(), cls=JSONEncoder))
        for panel_id, panel in enumerate(model["panels"], start=1):
            panel["id"] = panel_id  # stable ids: links and "view panel" URLs survive regeneration
        models[model["uid"]] = model
    return models


def to_json(model: dict) -> str:
    return json.dumps(model, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def generated_files(registry: Registry, settings: Settings, language: Language) -> dict[Path, str]:
    """Relative path → content of every generated file."""
    texts = Texts(language)
    files = {DATASOURCES_FILE: provisioning.datasources_yaml(texts, settings),
             PROVIDERS_FILE: provisioning.dashboards_yaml(texts)}
    for uid, model in dashboard_models(registry, settings, language).items():
        files[DASHBOARDS_DIR / f"{uid}.json"] = to_json(model)
    return files


def write_files(directory: Path, files: dict[Path, str]) -> list[Path]:
    """Write ``files`` under ``directory``, removing generated files no longer produced; returns what changed."""
    changed = []
    for stale in sorted((directory / DASHBOARDS_DIR).glob("*.json")):
        if stale.relative_to(directory) not in files:
            stale.unlink()
            changed.append(stale)
    for relative, content in sorted(files.items()):
        path = directory / relative
        if path.is_file() and path.read_text(encoding="utf-8") == content:
            continue
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(content, encoding="utf-8")
        changed.append(path)
    return changed
