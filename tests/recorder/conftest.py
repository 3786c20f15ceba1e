"""Fixtures of the recorder tests: the alerting tests' topics, database and services, since what the
recorder writes is what the other stages put on Kafka (alerting's lines among them)."""

from __future__ import annotations

from tests.alerting.conftest import alerting_settings, names, produce, receiver, start_recorder, start_service, tokens

__all__ = ["alerting_settings", "names", "produce", "receiver", "start_recorder", "start_service", "tokens"]
