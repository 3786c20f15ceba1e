"""Every generated dashboard validates against Grafana's dashboard schema (see schema_check)."""

from __future__ import annotations

import copy
from pathlib import Path

import pytest

from hazmon.settings import Settings

from tests.dashboards.schema_check import check_dashboards


@pytest.fixture(scope="module")
def schema_dir(settings: Settings) -> Path:
    return settings.cache_path / "dashboards-schema"


def test_every_dashboard_validates_against_grafana_schema(schema_dir: Path, models: dict[str, dict],
                                                          models_en: dict[str, dict]) -> None:
    both = {**{f"zh_{uid}": m for uid, m in models.items()}, **{f"en_{uid}": m for uid, m in models_en.items()}}
    assert check_dashboards(schema_dir, {k.replace("-", "_"): m for k, m in both.items()}) == ""


def test_the_check_catches_a_broken_dashboard(schema_dir: Path, models: dict[str, dict]) -> None:
    wrong_type, misspelt, bad_enum, bad_option = (copy.deepcopy(next(iter(models.values()))) for _ in range(4))
    wrong_type["panels"][0]["gridPos"]["w"] = "twelve"
    misspelt["refersh"] = "10s"
    bad_enum["panels"][0]["fieldConfig"]["defaults"]["thresholds"] = {"mode": "relative", "steps": []}
    series = next(p for p in bad_option["panels"] if p["type"] == "timeseries")
    series["options"]["legend"]["displayMode"] = "tabel"    # checked by the timeseries plugin's schema
    output = check_dashboards(schema_dir, {"wrong_type": wrong_type, "misspelt": misspelt, "bad_enum": bad_enum,
                                           "bad_option": bad_option})
    assert "wrong_type.ts" in output and "'string' is not assignable to type 'number'" in output
    assert "misspelt.ts" in output and "refersh" in output
    assert "bad_enum.ts" in output and '"relative"' in output
    assert "bad_option.ts" in output and '"tabel"' in output
