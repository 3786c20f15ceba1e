"""Fixtures of the fault tests: the alerting tests' topics, receiver and producer, and alerting as a child process."""

from __future__ import annotations

from tests.alerting.conftest import alerting_settings, names, produce, receiver, start_recorder, start_service, tokens

__all__ = ["alerting_settings", "names", "produce", "receiver", "start_recorder", "start_service", "tokens"]
