"""A fresh install, as a new user meets it (issue 13, §8 rev 1.1): no topic exists; the rules worker
and alerting start first, then ingest, then a device publishes. The first fire event and the first
offline status are alarms on the duty API within the usual latency, and every topic the platform
uses was created by the platform with its own retention (alarms kept for good), not by a producer."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiomqtt
import orjson
import pytest
from aiokafka.admin import AIOKafkaAdminClient
from aiokafka.admin.config_resource import ConfigResource, ConfigResourceType

from hazmon.kafka_topics import topic_configs
from hazmon.settings import Settings
from testbed.pipeline import IsolatedPipeline
from tests.e2e.runs import sample_county
from testbed.kafka_admin import topic_names

pytestmark = pytest.mark.servers
FIRE_ENTERPRISE = "12433127MB1FIRE003"    # of the sample registry: detector FAC1_Z07, transmission unit FTU01
ALARM_WITHIN_S = 10.0


async def _retention(settings: Settings, names: list[str]) -> dict[str, str]:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        described = await admin.describe_configs([ConfigResource(ConfigResourceType.TOPIC, n) for n in names])
    finally:
        await admin.close()
    return {name: dict((e[0], e[1]) for e in entries)["retention.ms"]
            for response in described for _err, _msg, _type, name, entries in response.resources}


async def _wait_for_alarms(run: IsolatedPipeline, rules: set[str], timeout_s: float) -> list[dict]:
    deadline = time.monotonic() + timeout_s
    alarms: list[dict] = []
    while time.monotonic() < deadline:
        alarms = await run.alarms()
        if rules <= {a["rule"] for a in alarms}:
            return alarms
        await asyncio.sleep(0.2)
    return alarms


async def test_a_fresh_install_raises_the_first_fire_and_offline(
        mosquitto: Settings, kafka: str, influxdb: Settings, settings: Settings, tmp_path: Path, unique: str) -> None:
    run, ids, secrets = sample_county(settings, tmp_path, unique, FIRE_ENTERPRISE)
    enterprise = ids[FIRE_ENTERPRISE]
    own = list(run.names.all())
    assert not set(own) & await topic_names(kafka)
    try:
        run.start_rules()
        run.start_alerting()
        run.start_recorder()
        await run.wait_api()
        run.start_ingest()
        await run.wait_started()
        password = secrets.enterprise(enterprise).mqtt_password
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise, password=password,
                                  identifier=f"fresh-{unique}", protocol=aiomqtt.ProtocolVersion.V5) as device:
            now = int(time.time() * 1000)
            sent = time.monotonic()
            await device.publish(f"hazmon/v1/{enterprise}/FAC1/event", orjson.dumps(
                {"v": 1, "ts": now, "point": "FAC1_Z07", "event": "fire", "text": "3F 东走廊 烟感"}), qos=1)
            await device.publish(f"hazmon/v1/{enterprise}/FTU01/status", orjson.dumps(
                {"v": 1, "online": False, "ts": now}), qos=1)
            alarms = await _wait_for_alarms(run, {"fire", "offline"}, ALARM_WITHIN_S)
            waited = time.monotonic() - sent
        created = await topic_names(kafka)
        retention = await _retention(settings, [t for t in own if t in created])
    finally:
        run.supervisor.stop_all()
        await run.drop_database()
        await run.drop_topics()
    assert {"fire", "offline"} <= {a["rule"] for a in alarms}, (alarms, run.supervisor.children["rules"].log_tail())
    assert waited < ALARM_WITHIN_S
    assert set(own) <= created
    assert retention == {name: topic_configs(name, settings)["retention.ms"] for name in own}
