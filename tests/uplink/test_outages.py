"""Store and forward through outages, on the real servers: the upper broker stopped for a while, then the
uplink process SIGKILLed, both while alarm changes keep coming. Afterwards the upper platform has every
version of every alarm, each alarm's versions first arriving in order; what came twice is a version it
had already received."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
from pathlib import Path

from aiokafka import AIOKafkaProducer

from hazmon import wire
from hazmon.settings import Settings
from testbed.alerting import eventually
from testbed.uplink import (COUNTY, Collector, TopicOf, UpperBroker, alarm_change, collecting, running_uplink,
                            uplink_settings, versions_in_order)

ALARMS, VERSIONS = 40, 50   # 2 000 changes


async def produce_paced(kafka: str, topic: str, pause_s: float) -> None:
    """Every alarm's versions, version by version across the alarms, ``pause_s`` between rounds."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for version in range(1, VERSIONS + 1):
            for n in range(ALARMS):
                await producer.send(topic, wire.encode(alarm_change(f"a{n:02d}", version)), key=f"a{n:02d}".encode())
            await producer.flush()
            await asyncio.sleep(pause_s)
    finally:
        await producer.stop()


def assert_complete_and_ordered(collector: Collector) -> None:
    versions = collector.alarm_versions()
    assert sorted(versions) == [f"a{n:02d}" for n in range(ALARMS)]
    for alarm, arrived in versions.items():
        assert set(arrived) == set(range(1, VERSIONS + 1)), f"{alarm} lost versions: {arrived}"
        assert versions_in_order(arrived), f"{alarm} out of order: {arrived}"


async def test_upper_broker_stopped_for_a_while(kafka: str, settings: Settings, upper: UpperBroker,
                                               platform_topic: TopicOf, unique: str) -> None:
    suffix, topic = await platform_topic("changes")
    county = uplink_settings(settings, upper, suffix, f"test-uplink-{unique}").model_copy(update={"uplink_max_inflight": 20})
    async with collecting(upper) as collector, running_uplink(county) as uplink:
        producing = asyncio.create_task(produce_paced(kafka, topic, 0.02))
        await eventually(lambda: len(collector.messages) >= 10 * ALARMS, 30, "the first rounds upward")
        upper.stop()   # while the uplink is sending: rounds in flight
        before = len(collector.messages)
        await asyncio.sleep(3.0)   # meanwhile changes keep coming into Kafka
        upper.start()
        await producing
        await eventually(lambda: len({(m["id"], m["version"]) for m in collector.messages}) >= ALARMS * VERSIONS,
                         60, "every version upward after the outage")
        assert uplink.connections >= 2
    assert before < ALARMS * VERSIONS   # the outage was in the middle of the run
    assert_complete_and_ordered(collector)


async def test_uplink_sigkilled_mid_run(kafka: str, settings: Settings, upper: UpperBroker,
                                        platform_topic: TopicOf, unique: str, tmp_path: Path) -> None:
    suffix, topic = await platform_topic("changes")
    county = uplink_settings(settings, upper, suffix, f"test-uplink-{unique}")
    env = {**os.environ, **{f"HAZMON_{name.upper()}": str(getattr(county, name)) for name in (
        "uplink_county_id", "uplink_port", "uplink_password", "uplink_client_id", "uplink_group", "kafka_topic_suffix",
        "uplink_retry_s", "uplink_max_inflight", "kafka_bootstrap")}}

    log = (tmp_path / "uplink.log").open("ab")

    def start() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "uplink", "run"], env=env,
                                stdout=log, stderr=subprocess.STDOUT)

    async with collecting(upper) as collector:
        process = start()
        try:
            producing = asyncio.create_task(produce_paced(kafka, topic, 0.05))
            await eventually(lambda: len(collector.messages) >= 10 * ALARMS, 60,
                             f"the first rounds upward: {(tmp_path / 'uplink.log').read_text()[-2000:]}")
            process.send_signal(signal.SIGKILL)
            process.wait(10)
            before = len(collector.messages)
            await asyncio.sleep(2.0)
            process = start()
            await producing
            await eventually(lambda: len({(m["id"], m["version"]) for m in collector.messages}) >= ALARMS * VERSIONS,
                             60, "every version upward after the restart")
        finally:
            process.terminate()
            process.wait(10)
            log.close()
    assert before < ALARMS * VERSIONS
    assert_complete_and_ordered(collector)


async def test_upper_broker_refusing_for_a_while(kafka: str, settings: Settings, upper: UpperBroker,
                                                 platform_topic: TopicOf, unique: str) -> None:
    """The county's account may not publish for a while (its ACL entry taken away, the broker reloaded):
    each refused message has its PUBACK, "not authorized", and is not delivered; nothing is committed
    for it, and once the account may publish again everything goes up."""
    suffix, topic = await platform_topic("changes")
    county = uplink_settings(settings, upper, suffix, f"test-uplink-{unique}")
    acl = upper.home / "acl"
    allowed = acl.read_text()
    async with collecting(upper) as collector, running_uplink(county):
        producing = asyncio.create_task(produce_paced(kafka, topic, 0.05))
        await eventually(lambda: len(collector.messages) >= 5 * ALARMS, 30, "the first rounds upward")
        acl.write_text(allowed.replace(f"topic write hazmon/v1/up/{COUNTY}/#", ""))
        upper.reload()
        await asyncio.sleep(2.0)
        refused_at = len(collector.messages)
        await asyncio.sleep(2.0)
        assert len(collector.messages) == refused_at, "the broker still took the county's messages"
        acl.write_text(allowed)
        upper.reload()
        await producing
        await eventually(lambda: len({(m["id"], m["version"]) for m in collector.messages}) >= ALARMS * VERSIONS,
                         60, "every version upward once the account may publish again")
    assert refused_at < ALARMS * VERSIONS
    assert_complete_and_ordered(collector)
