"""The Kafka side: an idempotent producer (acks=all) that writes a flush batch and reports only
when Kafka has acknowledged every record of it."""

from __future__ import annotations

import asyncio
import contextlib
import logging

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaConnectionError, KafkaError

from hazmon.settings import Settings
from ingest.outbound import KafkaRecord

log = logging.getLogger(__name__)

# What a broker going away and coming back raises. InvalidStateError: aiokafka 0.14 can answer a
# producer-id request twice while the broker restarts, and fails its own start with it.
BROKER_TROUBLE = (KafkaError, OSError, asyncio.InvalidStateError, TimeoutError)
REQUEST_TIMEOUT_S = 10


class KafkaSink:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._producer: AIOKafkaProducer | None = None  # created by start()
        self._one_writer = asyncio.Lock()  # flushes and counters never replace the producer under each other

    def _new_producer(self) -> AIOKafkaProducer:
        return AIOKafkaProducer(
            bootstrap_servers=self._settings.kafka_bootstrap, enable_idempotence=True, acks="all",
            linger_ms=5, max_batch_size=512 * 1024, max_request_size=1024 * 1024, request_timeout_ms=10000,
            client_id=f"hazmon-ingest-{self._settings.ingest_instance}")

    async def _discard_producer(self) -> None:
        if self._producer is not None:
            with contextlib.suppress(*BROKER_TROUBLE):
                async with asyncio.timeout(REQUEST_TIMEOUT_S):
                    await self._producer.stop()
            self._producer = None

    async def start(self) -> None:
        """Connect, waiting for Kafka as long as it takes (the adapter is useless without it)."""
        while True:
            self._producer = self._new_producer()
            try:
                async with asyncio.timeout(3 * REQUEST_TIMEOUT_S):
                    await self._producer.start()
                return
            except BROKER_TROUBLE as exc:
                log.warning("kafka not reachable, retrying", extra={"error": type(exc).__name__})
                await self._discard_producer()
                await asyncio.sleep(self._settings.ingest_retry_s)

    async def stop(self) -> None:
        await self._discard_producer()

    async def write(self, records: list[KafkaRecord]) -> None:
        """Send ``records`` and wait until Kafka acknowledged all of them; raises if not."""
        if self._producer is None:
            raise KafkaConnectionError("the Kafka sink is not started")
        futures = [await self._producer.send(r.topic, r.value, key=r.key, headers=r.headers) for r in records]
        outcomes = await asyncio.gather(*futures, return_exceptions=True)
        failure = next((o for o in outcomes if isinstance(o, BaseException)), None)
        if failure is not None:
            raise failure

    async def write_until_done(self, records: list[KafkaRecord]) -> None:
        """``write`` again, on a fresh producer, after each failure: nothing accepted is given up."""
        async with self._one_writer:
            await self._write_until_done(records)

    async def _write_until_done(self, records: list[KafkaRecord]) -> None:
        attempt = 0
        while True:
            try:
                async with asyncio.timeout(3 * REQUEST_TIMEOUT_S):
                    await self.write(records)
            except BROKER_TROUBLE as exc:
                attempt += 1
                log.warning("kafka write failed, retrying", extra={"records": len(records), "attempt": attempt,
                                                                    "error": type(exc).__name__})
                await self._discard_producer()
                await asyncio.sleep(self._settings.ingest_retry_s)
                await self.start()
                continue
            if attempt:
                log.info("kafka write succeeded again", extra={"records": len(records), "attempts": attempt + 1})
            return
