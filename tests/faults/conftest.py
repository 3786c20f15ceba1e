"""Fixtures of the fault tests: the alerting tests' topics, receiver and producer, alerting as a child process, and
a private three-broker Kafka cluster whose brokers a test may stop (the local stack's Kafka is never stopped)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from hazmon.settings import Settings
from testbed.faults.cluster import Cluster
from tests.alerting.conftest import alerting_settings, names, produce, receiver, start_recorder, start_service, tokens

__all__ = ["alerting_settings", "names", "produce", "receiver", "start_recorder", "start_service", "tokens"]


@pytest.fixture(scope="module")
def cluster(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """Three KRaft brokers of the module's own, started once for its tests and stopped after them."""
    own = Cluster(settings, tmp_path_factory.mktemp("cluster"))
    try:
        own.start()
        yield own
    finally:
        own.stop()
