"""Kafka on the real broker: aiokafka round trip, and a faust-streaming worker whose table
survives a SIGKILL through its changelog."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition

pytestmark = pytest.mark.servers
APP = Path(__file__).with_name("faust_counter_app.py")


async def _produce(bootstrap: str, topic: str, records: list[tuple[bytes, bytes]]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for key, value in records:
            await producer.send(topic, value, key=key)
        await producer.flush()
    finally:
        await producer.stop()


async def _consume(bootstrap: str, topic: str, count: int, timeout_s: float,
                   alive: subprocess.Popen | None = None) -> list[tuple[bytes, bytes]]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, auto_offset_reset="earliest",
                                enable_auto_commit=False, group_id=None)
    await consumer.start()
    received: list[tuple[bytes, bytes]] = []
    try:
        deadline = asyncio.get_running_loop().time() + timeout_s
        while len(received) < count and asyncio.get_running_loop().time() < deadline:
            if alive is not None and alive.poll() is not None:
                break  # the worker died: its log tells why
            batches = await consumer.getmany(timeout_ms=500)
            received += [(m.key, m.value) for msgs in batches.values() for m in msgs]
    finally:
        await consumer.stop()
    return received


async def test_aiokafka_round_trip(kafka: str, unique: str) -> None:
    topic = f"test-roundtrip-{unique}"
    sent = [(f"k{i % 3}".encode(), f"v{i}".encode()) for i in range(50)]
    await _produce(kafka, topic, sent)
    received = await _consume(kafka, topic, len(sent), 20)
    assert sorted(received) == sorted(sent)
    # one key's records keep their order within its partition
    assert [v for k, v in received if k == b"k0"] == [v for k, v in sent if k == b"k0"]


def _start_worker(env: dict[str, str], log: Path) -> subprocess.Popen:
    handle = log.open("ab")
    return subprocess.Popen([sys.executable, str(APP), "worker", "-l", "warn"],
                            env=env, stdout=handle, stderr=subprocess.STDOUT, start_new_session=True)


async def _wait_counts(kafka: str, topic: str, expected_total: int, timeout_s: float,
                       worker: subprocess.Popen) -> dict[bytes, int]:
    """The highest count seen per key on the output topic, once `expected_total` counts arrived."""
    received = await _consume(kafka, topic, expected_total, timeout_s, worker)
    highest: dict[bytes, int] = {}
    for key, value in received:
        highest[key] = max(highest.get(key, 0), int(value))
    return highest


async def _end_offsets(bootstrap: str, topic: str) -> dict[TopicPartition, int]:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=bootstrap, enable_auto_commit=False,
                                group_id=None)
    await consumer.start()  # without a group, started is assigned every partition
    try:
        return dict(await consumer.end_offsets(list(consumer.assignment())))
    finally:
        await consumer.stop()


async def _counts_from(bootstrap: str, start: dict[TopicPartition, int], key: bytes, at_least: int,
                       timeout_s: float, worker: subprocess.Popen) -> list[tuple[bytes, int]]:
    """Every count written after `start`, read until `key`'s count reaches `at_least`."""
    consumer = AIOKafkaConsumer(bootstrap_servers=bootstrap, enable_auto_commit=False, group_id=None)
    await consumer.start()
    counts: list[tuple[bytes, int]] = []
    try:
        consumer.assign(list(start))
        for partition, offset in start.items():
            consumer.seek(partition, offset)
        deadline = asyncio.get_running_loop().time() + timeout_s
        while (max((c for k, c in counts if k == key), default=0) < at_least
               and asyncio.get_running_loop().time() < deadline and worker.poll() is None):
            batches = await consumer.getmany(timeout_ms=500)
            counts += [(m.key, int(m.value)) for msgs in batches.values() for m in msgs]
    finally:
        await consumer.stop()
    return counts


async def test_faust_table_recovers_after_kill(kafka: str, unique: str, tmp_path: Path) -> None:
    source, sink = f"test-faust-in-{unique}", f"test-faust-out-{unique}"
    env = {**os.environ, "HAZMON_TEST_APP": f"hazmon-test-{unique}", "HAZMON_TEST_IN": source,
           "HAZMON_TEST_OUT": sink, "HAZMON_KAFKA_BOOTSTRAP": kafka,
           "HAZMON_TEST_DATADIR": str(tmp_path / "faust-data")}
    log = tmp_path / "worker.log"
    await _produce(kafka, source, [(b"a", b"1")] * 5 + [(b"b", b"1")] * 3)
    worker = _start_worker(env, log)
    try:
        first = await _wait_counts(kafka, sink, 8, 60, worker)
        assert first == {b"a": 5, b"b": 3}, log.read_text()
        # every count in the table's changelog before the kill (Faust writes it from a background
        # buffer, and at least once commits the offsets independently: once a=4 was all it held)
        await _consume(kafka, f"hazmon-test-{unique}-counts-changelog", 8, 60, worker)
        await asyncio.sleep(3)  # let the worker commit its offsets
    finally:
        os.killpg(worker.pid, signal.SIGKILL)
        worker.wait()
    written_before = await _end_offsets(kafka, sink)
    await _produce(kafka, source, [(b"a", b"1")] * 2)
    worker = _start_worker(env, log)
    try:
        # the table came back from its changelog: counting goes on from 5, not from 0. At least
        # once, the new worker may count again a record whose offset the killed one had not
        # committed (once, ten counts in, a stood at 6 where exactly once would give 7): its
        # counts then run on past 7, but never start over.
        after = await _counts_from(kafka, written_before, b"a", 7, 90, worker)
        counts_of_a = [c for k, c in after if k == b"a"]
        assert counts_of_a and counts_of_a[0] >= 6 and counts_of_a[-1] >= 7, (after, log.read_text())
        assert counts_of_a == list(range(counts_of_a[0], counts_of_a[-1] + 1)), after
        assert all(c > 3 for k, c in after if k == b"b"), after
    finally:
        os.killpg(worker.pid, signal.SIGTERM)
        worker.wait(timeout=30)
