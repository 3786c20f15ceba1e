"""``hazmon alerting run`` on a run's own Kafka topics (a child of the end-to-end tests and the benchmark).

``alerting.process.serve`` always reads the default topics; the isolated pipeline of
:mod:`tests.e2e.pipeline` writes suffixed ones, so this entry point hands the service those names
and otherwise runs the very same ``serve``. Usage: ``python -m tests.e2e.alerting_child SUFFIX ACTIONS``.
"""

from __future__ import annotations

import asyncio
import functools
import sys

import alerting.process
from alerting.kafka_log import AlertingTopics
from alerting.service import AlertingService
from hazmon import topics
from hazmon import logs
from hazmon.settings import get_settings


def main(suffix: str, actions: str) -> None:
    settings = get_settings()
    names = AlertingTopics(transitions=settings.rules_output_topic, actions=actions,
                           readings=topics.READINGS + suffix, ingest_stats=topics.INGEST_STATS + suffix)
    alerting.process.AlertingService = functools.partial(AlertingService, names=names)
    logs.configure()
    asyncio.run(alerting.process.serve(settings))


if __name__ == "__main__":
    main(sys.argv[1], sys.argv[2])
