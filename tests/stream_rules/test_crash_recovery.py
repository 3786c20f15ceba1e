"""A worker SIGKILLed mid-transaction leaves aborted records at its changelog's end: its successor's recovery
must target the last committed record, not one of them.

The fault bench's rules kill: the worker died with a transaction open that had written table changes to
the changelog; its successor aborted it, and recovery targeted ``end − 2``, an aborted record no
read_committed consumer receives, so Faust ended the recovery only after two idle 5 s polls (~11 s of
36 s). Here the worker is killed while the changelog holds an open transaction's records (checked after
the kill, so no race) after a first backlog committed state, restarted, and the targets its recovery logs
are compared with the last record a read_committed consumer receives before the aborted ones.
"""

from __future__ import annotations

import ast
import asyncio
import re

import pytest
from aiokafka import AIOKafkaConsumer, TopicPartition

from hazmon.settings import Settings
from tests.stream_rules.test_backlog_kills import _events, _registry
from tests.stream_rules.worker_process import RulesWorker

pytestmark = pytest.mark.servers
TARGETS = re.compile(r"Last committed changelog records for active partitions: (\{.*\})")


class _OpenTransactions:
    """Changelog partitions holding an open transaction's records: their ends as written (the high watermarks)
    beyond their committed ends (the last stable offsets), asked of the broker by two started consumers."""

    def __init__(self, bootstrap: str, partitions: list[TopicPartition]) -> None:
        self.partitions = partitions
        self.written, self.committed = (AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level=level,
                                                         enable_auto_commit=False)
                                        for level in ("read_uncommitted", "read_committed"))

    async def __aenter__(self) -> _OpenTransactions:
        await self.written.start()
        await self.committed.start()
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.written.stop()
        await self.committed.stop()

    async def ends(self) -> dict[TopicPartition, int]:
        """The written end of each partition whose committed end is before it."""
        written = await self.written.end_offsets(self.partitions)
        committed = await self.committed.end_offsets(self.partitions)
        return {tp: written[tp] for tp in self.partitions if written[tp] > committed[tp]}


async def _last_committed_before(bootstrap: str, tp: TopicPartition, before: int) -> int:
    """The offset of the last record before ``before`` a read_committed consumer receives (-1: none)."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, isolation_level="read_committed", enable_auto_commit=False)
    await consumer.start()
    try:
        consumer.assign([tp])
        await consumer.seek_to_beginning(tp)
        end = (await consumer.end_offsets([tp]))[tp]
        last = -1
        while await consumer.position(tp) < end:
            for message in (await consumer.getmany(tp, timeout_ms=1000)).get(tp, []):
                if message.offset < before:
                    last = message.offset
        return last
    finally:
        await consumer.stop()


async def _kill_with_changelog_transaction_open(worker: RulesWorker, partitions: list[TopicPartition]) -> dict[TopicPartition, int]:
    """A first backlog worked through (committed state to recover), then more backlogs, killing the worker
    until it dies with a transaction open on the changelog (checked after the kill); the written ends of the
    partitions where one is open (its aborted records end before them)."""
    await worker.produce("events", _events(0))
    worker.start()
    await worker.transitions(until=len(_events(0)), timeout_s=120, quiet_s=1)
    worker.kill()
    async with _OpenTransactions(worker.bootstrap, partitions) as transactions:
        for round_ in range(1, 6):
            await worker.produce("events", _events(round_))
            worker.start()
            loop = asyncio.get_running_loop()
            give_up = loop.time() + 120
            while not await transactions.ends() and loop.time() < give_up:
                await asyncio.sleep(0.01)
            worker.kill()
            if open_ends := await transactions.ends():
                return open_ends
    raise AssertionError("no kill left a changelog transaction open\n" + worker.log.read_text()[-3000:])


async def test_a_worker_killed_mid_transaction_recovers_to_the_last_committed_changelog_record(
        kafka: str, settings: Settings, unique: str, tmp_path) -> None:
    worker = RulesWorker(settings, unique, tmp_path)
    worker.env["HAZMON_REGISTRY_DIR"] = str(_registry(tmp_path / "registry"))
    await worker.create_topics()
    changelog = f"{worker.env['HAZMON_RULES_APP_ID']}-rules-state-changelog"
    partitions = [TopicPartition(changelog, p) for p in range(settings.kafka_partitions)]
    try:
        open_ends = await _kill_with_changelog_transaction_open(worker, partitions)
        before = len(worker.log.read_bytes())
        successor = worker.start()
        loop = asyncio.get_running_loop()
        give_up = loop.time() + 120
        while "Worker ready" not in (log := worker.log.read_bytes()[before:].decode()):   # recovered, if it had to
            assert loop.time() < give_up and successor.poll() is None, log[-3000:]
            await asyncio.sleep(0.2)
    finally:
        worker.kill()
    (logged,) = [ast.literal_eval(m.group(1)) for m in TARGETS.finditer(log)]
    for tp, end in open_ends.items():
        truth = await _last_committed_before(kafka, tp, end)
        assert truth < end - 1, f"{tp}: the open transaction had no record"
        assert logged[f"{changelog}[{tp.partition}]"] == truth, (tp, end, logged)
