"""Fixtures of the device simulator's tests: the sample registry the shipped scenarios run on."""

from __future__ import annotations

import pytest

from hazmon.registry import Registry, load_registry
from hazmon.settings import PACKAGE_DIR

START_MS = 1_764_000_000_000   # 2025-11-24T16:00:00Z, a fixed start so runs are comparable


@pytest.fixture(scope="session")
def sample_registry() -> Registry:
    return load_registry(PACKAGE_DIR / "sample_registry")
