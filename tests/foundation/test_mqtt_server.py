"""Mosquitto on the real broker: per-enterprise credentials and ACL from the registry."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import paho.mqtt.client as paho
import pytest

from hazmon.registry import Registry
from hazmon.secrets import Secrets
from hazmon.settings import Settings

pytestmark = pytest.mark.servers


def _client(settings: Settings, username: str, password: str, identifier: str) -> aiomqtt.Client:
    return aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=username, password=password,
                          identifier=identifier, protocol=aiomqtt.ProtocolVersion.V5)


async def test_enterprise_publishes_own_topic_and_platform_receives(
        mosquitto: Settings, registry: Registry, platform_secrets: Secrets, unique: str) -> None:
    enterprise = sorted(registry.enterprises)[0]
    topic = f"hazmon/v1/{enterprise}/DEV-{unique}/telemetry"
    async with _client(mosquitto, mosquitto.mqtt_platform_user, platform_secrets.platform_mqtt_password,
                       f"platform-{unique}") as platform:
        await platform.subscribe(topic, qos=1)
        async with _client(mosquitto, enterprise, platform_secrets.enterprise(enterprise).mqtt_password,
                           f"ent-{unique}") as device:
            await device.publish(topic, b'{"v":1,"readings":[]}', qos=1)
        message = await asyncio.wait_for(anext(aiter(platform.messages)), 10)
    assert message.topic.value == topic
    assert message.payload == b'{"v":1,"readings":[]}'


def _puback_reason(settings: Settings, username: str, password: str, topic: str) -> int:
    """Publish once at QoS 1 with paho and return the broker's PUBACK reason code."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.username_pw_set(username, password)
    acks: list[int] = []
    client.on_publish = lambda _c, _u, _mid, reason, _p: acks.append(reason.value)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    try:
        client.publish(topic, b'{"v":1,"readings":[]}', qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 10
        while not acks and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    assert acks, "no PUBACK from the broker"
    return acks[0]


async def test_enterprise_refused_under_another_enterprises_topic(
        mosquitto: Settings, registry: Registry, platform_secrets: Secrets, unique: str) -> None:
    own, other = sorted(registry.enterprises)[:2]
    foreign_topic = f"hazmon/v1/{other}/DEV-{unique}/telemetry"
    async with _client(mosquitto, mosquitto.mqtt_platform_user, platform_secrets.platform_mqtt_password,
                       f"platform-{unique}") as platform:
        await platform.subscribe(foreign_topic, qos=1)
        reason = await asyncio.to_thread(_puback_reason, mosquitto, own,
                                         platform_secrets.enterprise(own).mqtt_password, foreign_topic)
        assert reason == 135  # "not authorized"
        with pytest.raises(asyncio.TimeoutError):
            await asyncio.wait_for(anext(aiter(platform.messages)), 2)
    # its own topic, same account, same way: accepted (16 = "no matching subscribers", 0 = success)
    own_topic = f"hazmon/v1/{own}/DEV-{unique}/telemetry"
    assert await asyncio.to_thread(_puback_reason, mosquitto, own, platform_secrets.enterprise(own).mqtt_password,
                                   own_topic) in (0, 16)


async def test_wrong_password_is_refused(mosquitto: Settings, registry: Registry, unique: str) -> None:
    enterprise = sorted(registry.enterprises)[0]
    with pytest.raises(aiomqtt.MqttError):
        async with _client(mosquitto, enterprise, "not-the-password", f"bad-{unique}"):
            pass
