"""Fixtures of the dashboards tests: the generated models of the sample registry, in both languages."""

from __future__ import annotations

import pytest

from hazmon.registry import Registry
from hazmon.settings import Settings

from dashboards.generate import dashboard_models


@pytest.fixture(scope="session")
def models(registry: Registry, settings: Settings) -> dict[str, dict]:
    return dashboard_models(registry, settings, "zh")


@pytest.fixture(scope="session")
def models_en(registry: Registry, settings: Settings) -> dict[str, dict]:
    return dashboard_models(registry, settings, "en")

