"""A short broker wait for the worker's fetches, so a worker that fell behind once catches up again.

faust-streaming 0.15 creates its aiokafka consumer with ``fetch_max_wait_ms=1500``, fixed. aiokafka
keeps one fetch in flight per broker, and leaves out of it every partition whose fetched records
the worker has not taken yet. Once all six readings partitions came back in one fetch (after any
hiccup: a slow commit, a retried produce), the next fetch held only idle partitions (events,
statuses, deadman ticks), and the broker kept it up to 1.5 s for data that rarely comes; by then
the readings partitions had ~1 s of records each, came back together again, and the worker read its
input ~1.2 s late for the rest of its run (bench/pipeline.py at 2 000 messages/s: alarm latency p50
~1.2 s instead of ~0.2 s, with the worker mostly idle). With a wait of ``rules_fetch_wait_ms`` an
idle-only fetch returns after at most that, and the readings are fetched again.

``limit_fetch_wait`` wraps the consumer thread's factory of its aiokafka consumer; call it before
the consumer starts (the app's ``on_start``).
"""

from __future__ import annotations

import logging
from typing import Any

from aiokafka import AIOKafkaConsumer

log = logging.getLogger("stream_rules.fetch_wait")


def limit_fetch_wait(consumer_thread: Any, wait_ms: int) -> None:
    """Have the aiokafka consumer that ``consumer_thread`` (Faust's ``AIOKafkaConsumerThread``) creates
    ask the broker to hold a fetch at most ``wait_ms``; idempotent."""
    wrapped = hasattr(consumer_thread, "_hazmon_fetch_wait_ms")
    consumer_thread._hazmon_fetch_wait_ms = wait_ms
    if wrapped:
        return
    create = consumer_thread._create_worker_consumer

    def create_worker_consumer(*args: Any, **kwargs: Any) -> AIOKafkaConsumer:
        consumer = create(*args, **kwargs)
        consumer._fetch_max_wait_ms = consumer_thread._hazmon_fetch_wait_ms   # read by the Fetcher made at start()
        log.info("fetch wait set", extra={"fetch_max_wait_ms": consumer._fetch_max_wait_ms})
        return consumer

    consumer_thread._create_worker_consumer = create_worker_consumer
