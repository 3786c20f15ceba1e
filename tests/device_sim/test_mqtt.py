"""Simulated devices against the real Mosquitto of the local stack (fixture ``mosquitto``)."""

from __future__ import annotations

import asyncio
import time

import aiomqtt
import orjson
import pytest

from hazmon.registry import Registry
from hazmon.secrets import Secrets
from hazmon.settings import Settings

from device_sim.clock import WarpClock
from device_sim.device import SimDevice
from device_sim.stream import DeviceMessage

pytestmark = pytest.mark.servers
CHEM = "91433127MA4CHEM001"


def platform_client(settings: Settings, secrets: Secrets, unique: str) -> aiomqtt.Client:
    return aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_platform_user,
                          password=secrets.platform_mqtt_password, identifier=f"sim-test-{unique}",
                          protocol=aiomqtt.ProtocolVersion.V5)


async def next_payload(client: aiomqtt.Client, timeout: float = 10.0) -> dict:
    async with asyncio.timeout(timeout):
        async for message in client.messages:
            if message.payload:
                return orjson.loads(message.payload)
    raise AssertionError("subscription ended")


async def test_the_will_arrives_when_the_connection_drops(mosquitto: Settings, platform_secrets: Secrets,
                                                           unique: str) -> None:
    device_id = f"SIMWILL{unique}"
    device = SimDevice(mosquitto, CHEM, device_id, platform_secrets.enterprise(CHEM).mqtt_password)
    schedule = [DeviceMessage(0.0, int(time.time() * 1000), CHEM, device_id, "status"),
                DeviceMessage(0.5, 0, CHEM, device_id, "drop")]
    async with platform_client(mosquitto, platform_secrets, unique) as platform:
        await platform.subscribe(device.status_topic, qos=1)
        try:
            runner = asyncio.create_task(device.run(schedule, WarpClock(speed=1.0)))
            assert (await next_payload(platform))["online"] is True
            assert await next_payload(platform) == {"v": 1, "online": False}
            stats = await runner
            assert stats.drops == 1 and stats.connects == 1
        finally:
            await platform.publish(device.status_topic, b"", qos=1, retain=True)   # clear the retained status
