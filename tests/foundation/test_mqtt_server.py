"""Mosquitto on the real broker: per-enterprise credentials and a per-device ACL from the registry,
regenerated live (an enterprise removed from its registry loses its account without a restart)."""

from __future__ import annotations

import asyncio
import contextlib
import time

import aiomqtt
import paho.mqtt.client as paho
import pytest

from hazmon.registry import Registry
from hazmon.secrets import Secrets
from hazmon.settings import Settings
from hzctl.stack.mosquitto import Mosquitto, register_enterprises
from tests.mqtt_sessions import connack, held_session
from tests.ingest.conftest import wait_for_account, write_registry

pytestmark = pytest.mark.servers


@pytest.fixture
def granted(mosquitto: Settings) -> Settings:
    """The broker's password file and ACL regenerated from the registries now (as ``stack up`` does)."""
    Mosquitto(mosquitto).refresh()
    time.sleep(0.5)  # the broker reloads on SIGHUP, a moment later
    return mosquitto


def _device(registry: Registry, enterprise: str) -> str:
    return sorted(registry.devices(enterprise))[0]


def _client(settings: Settings, username: str, password: str, identifier: str) -> aiomqtt.Client:
    return aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=username, password=password,
                          identifier=identifier, protocol=aiomqtt.ProtocolVersion.V5)


async def test_enterprise_publishes_own_topic_and_platform_receives(
        granted: Settings, registry: Registry, platform_secrets: Secrets, unique: str) -> None:
    enterprise = sorted(registry.enterprises)[0]
    topic = f"hazmon/v1/{enterprise}/{_device(registry, enterprise)}/telemetry"
    payload = b'{"v":1,"readings":[],"test":"%s"}' % unique.encode()  # others' simulators may use the topic too
    async with _client(granted, granted.mqtt_platform_user, platform_secrets.platform_mqtt_password,
                       f"platform-{unique}") as platform:
        await platform.subscribe(topic, qos=1)
        async with _client(granted, enterprise, platform_secrets.enterprise(enterprise).mqtt_password,
                           f"ent-{unique}") as device:
            await device.publish(topic, payload, qos=1)
        async with asyncio.timeout(10):
            async for message in platform.messages:
                if message.payload == payload:
                    break
    assert message.topic.value == topic


def _puback_reason(settings: Settings, username: str, password: str, topic: str,
                   payload: bytes = b'{"v":1,"readings":[]}') -> int:
    """Publish once at QoS 1 with paho and return the broker's PUBACK reason code."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5)
    client.username_pw_set(username, password)
    acks: list[int] = []
    client.on_publish = lambda _c, _u, _mid, reason, _p: acks.append(reason.value)
    client.connect(settings.mqtt_host, settings.mqtt_port)
    client.loop_start()
    try:
        client.publish(topic, payload, qos=1).wait_for_publish(10)
        deadline = time.monotonic() + 10
        while not acks and time.monotonic() < deadline:
            time.sleep(0.05)
    finally:
        client.disconnect()
        client.loop_stop()
    assert acks, "no PUBACK from the broker"
    return acks[0]


async def test_enterprise_refused_under_another_enterprises_topic(
        granted: Settings, registry: Registry, platform_secrets: Secrets, unique: str) -> None:
    mosquitto = granted
    own, other = sorted(registry.enterprises)[:2]
    foreign_topic = f"hazmon/v1/{other}/{_device(registry, other)}/telemetry"
    async with _client(mosquitto, mosquitto.mqtt_platform_user, platform_secrets.platform_mqtt_password,
                       f"platform-{unique}") as platform:
        await platform.subscribe(foreign_topic, qos=1)
        payload = b'{"v":1,"readings":[],"test":"%s"}' % unique.encode()  # the other's own devices may publish
        reason = await asyncio.to_thread(_puback_reason, mosquitto, own,
                                         platform_secrets.enterprise(own).mqtt_password, foreign_topic, payload)
        assert reason == 135  # "not authorized"
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                async for message in platform.messages:
                    assert message.payload != payload
    # its own topic, same account, same way: accepted (16 = "no matching subscribers", 0 = success)
    own_topic = f"hazmon/v1/{own}/{_device(registry, own)}/telemetry"
    assert await asyncio.to_thread(_puback_reason, mosquitto, own, platform_secrets.enterprise(own).mqtt_password,
                                   own_topic) in (0, 16)


async def test_wrong_password_is_refused(mosquitto: Settings, registry: Registry, unique: str) -> None:
    enterprise = sorted(registry.enterprises)[0]
    with pytest.raises(aiomqtt.MqttError):
        async with _client(mosquitto, enterprise, "not-the-password", f"bad-{unique}"):
            pass


async def test_enterprise_refused_on_a_device_it_has_not_registered(
        granted: Settings, registry: Registry, platform_secrets: Secrets, unique: str) -> None:
    """bench/abuse.py: 3.2 of the attacker's 4.0 million messages were for a made-up device (and each
    may leave a retained message of up to 1 MiB behind)."""
    enterprise = sorted(registry.enterprises)[0]
    password = platform_secrets.enterprise(enterprise).mqtt_password
    for kind in ("telemetry", "event", "status"):
        topic = f"hazmon/v1/{enterprise}/MADE-UP-{unique}/{kind}"
        assert await asyncio.to_thread(_puback_reason, granted, enterprise, password, topic) == 135


async def test_an_enterprise_removed_from_its_registry_loses_its_account(
        mosquitto: Settings, unique: str, tmp_path) -> None:  # noqa: ANN001
    """Issue #14: removed from the registry, an enterprise kept its broker account (every enterprise
    ever registered had one). Now the next regeneration takes it away, live: new connections are
    refused and its open connection is closed, without restarting the broker."""
    staying, leaving = f"TKEEP-{unique}", f"TGONE-{unique}"
    write_registry(tmp_path, staying)
    write_registry(tmp_path, leaving)
    password = register_enterprises(mosquitto, tmp_path).enterprise(leaving).mqtt_password
    wait_for_account(mosquitto, leaving, password)
    with held_session(mosquitto, leaving, password, f"gone-{unique}") as closed:
        (tmp_path / f"{leaving}.yaml").unlink()
        register_enterprises(mosquitto, tmp_path)
        assert await asyncio.to_thread(closed.wait, 10), "the broker kept the removed enterprise's session"
    deadline = time.monotonic() + 5
    while (answer := await asyncio.to_thread(connack, mosquitto, leaving, password)) == "Success":
        assert time.monotonic() < deadline, "the removed enterprise may still log in"
        await asyncio.sleep(0.2)
    assert answer in ("Not authorized", "Bad user name or password"), answer
    assert await asyncio.to_thread(connack, mosquitto, staying, password) != "Success"  # not its password
