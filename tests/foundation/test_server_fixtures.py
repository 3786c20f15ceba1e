"""A test that needs a server fails (never skips) with a message naming the server that is down."""

from __future__ import annotations

import pytest

from tests.conftest import _require


def test_down_server_fails_the_test_and_is_named() -> None:
    with pytest.raises(pytest.fail.Exception, match=r"server kafka is not available \(connection refused\)"):
        _require({"mosquitto": None, "kafka": "connection refused", "influxdb": None}, "kafka")


def test_healthy_server_passes() -> None:
    _require({"kafka": None}, "kafka")
