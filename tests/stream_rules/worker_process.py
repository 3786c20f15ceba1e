"""Running a real ``hazmon rules worker`` process on unique topics, for the integration tests."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

from hazmon.kafka_topics import ensure_topics
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics


class RulesWorker:
    def __init__(self, settings: Settings, unique: str, tmp: Path) -> None:
        self.bootstrap = settings.kafka_bootstrap
        self.partitions = settings.kafka_partitions
        self.names = PlatformTopics.with_suffix(f".test-rules-{unique}")
        self.topics = {"readings": self.names.readings, "events": self.names.events, "status": self.names.device_status,
                       "output": self.names.transitions}
        self.settings = settings
        self.env = {**os.environ, "HAZMON_RULES_APP_ID": f"test-rules-{unique}",
                    "HAZMON_KAFKA_TOPIC_SUFFIX": self.names.suffix,
                    "HAZMON_RULES_DATADIR": str(tmp / "faust"),
                    "HAZMON_RULES_TICK_S": "3600",  # the deadman follows wall time: not in a replayed scenario
                    "HAZMON_REGISTRY_DIR": str(settings.registry_dir)}
        self.log = tmp / "worker.log"
        self.processes: list[subprocess.Popen] = []

    async def create_topics(self) -> None:
        await ensure_topics(self.settings, self.topics.values())

    def start(self, module: str = "hzctl.cli") -> subprocess.Popen:
        """One more worker process of the same app (they split the partitions); ``module`` another entry point
        (``python -m module rules worker``) for a worker under test conditions."""
        handle = self.log.open("ab")
        process = subprocess.Popen([sys.executable, "-m", module, "rules", "worker"], env=self.env,
                                   stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)
        self.processes.append(process)
        return process

    async def wait_members(self, count: int, timeout_s: float) -> None:
        """Until the app's consumer group has ``count`` members with partitions (a rebalance has ended)."""
        admin = AIOKafkaAdminClient(bootstrap_servers=self.bootstrap)
        await admin.start()
        try:
            loop = asyncio.get_running_loop()
            give_up = loop.time() + timeout_s
            while loop.time() < give_up:
                (response,) = await admin.describe_consumer_groups([self.env["HAZMON_RULES_APP_ID"]])
                _error, _group, state, _protocol_type, _protocol, members, *_ = response.groups[0]
                if state == "Stable" and len(members) == count:
                    return
                await asyncio.sleep(0.5)
            raise TimeoutError(f"the group did not reach {count} members in {timeout_s} s")
        finally:
            await admin.close()

    def kill(self, process: subprocess.Popen | None = None, signum: int = signal.SIGKILL) -> None:
        """SIGKILL (or ``signum``: SIGTERM is a clean stop) ``process``, or every worker still running."""
        for victim in [process] if process is not None else list(self.processes):
            if victim.poll() is None:
                os.killpg(victim.pid, signum)
            victim.wait(timeout=60)
            self.processes.remove(victim)

    async def produce(self, name: str, records: list[dict]) -> None:
        producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, enable_idempotence=True, acks="all")
        await producer.start()
        try:
            for record in records:
                await producer.send(self.topics[name], orjson.dumps(record), key=record["enterprise"].encode())
            await producer.flush()
        finally:
            await producer.stop()

    @asynccontextmanager
    async def uncommitted_output(self) -> AsyncIterator[AIOKafkaConsumer]:
        """A consumer of the output topic that sees records of open (not yet committed) transactions too."""
        consumer = AIOKafkaConsumer(self.topics["output"], bootstrap_servers=self.bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    isolation_level="read_uncommitted")
        await consumer.start()
        try:
            yield consumer
        finally:
            await consumer.stop()

    async def transitions(self, until: int, timeout_s: float, quiet_s: float = 4.0) -> list[dict]:
        """Committed transitions on the output topic: at least ``until`` of them, then ``quiet_s`` without more."""
        consumer = AIOKafkaConsumer(self.topics["output"], bootstrap_servers=self.bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        received: list[dict] = []
        loop = asyncio.get_running_loop()
        try:
            deadline = loop.time() + timeout_s
            last_new = loop.time()
            while loop.time() < deadline:
                if self.processes and all(p.poll() is not None for p in self.processes):
                    break                      # every worker died: its log says why
                batches = await consumer.getmany(timeout_ms=500)
                new = [orjson.loads(m.value) for msgs in batches.values() for m in msgs]
                if new:
                    received += new
                    last_new = loop.time()
                elif len(received) >= until and loop.time() - last_new >= quiet_s:
                    break
        finally:
            await consumer.stop()
        return received
