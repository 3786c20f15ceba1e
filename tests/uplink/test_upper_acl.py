"""The upper broker's accounts (hzctl.stack.upper_broker) on a real Mosquitto: a county publishes only under
its own ``up`` topics and reads only its own ``down`` topics (data standard §11)."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from pathlib import Path

import aiomqtt
import orjson
import pytest

from hazmon.exchange import down_action_topic, up_topic
from hazmon.settings import Settings
from testbed.alerting import eventually
from testbed.kafka_admin import delete_topics
from testbed.uplink import (COUNTY, OTHER, PASSWORDS, UPPER_PASSWORD, UPPER_USER, UpperBroker, collecting,
                            running_uplink, upper_broker, uplink_settings)
from uplink.link import UpperLink, UpperLinkError


async def test_a_county_cannot_publish_on_another_countys_topic(upper: UpperBroker) -> None:
    async with collecting(upper) as collector, upper.county_client(OTHER) as other:
        link = UpperLink(other, publish_timeout_s=5)
        with pytest.raises(UpperLinkError, match="refused"):   # a PUBACK "not authorized": not delivered
            await link.publish(up_topic(COUNTY, "alarm"), orjson.dumps({"id": "forged", "version": 1}))
        await link.publish(up_topic(OTHER, "alarm"), orjson.dumps({"id": "own", "version": 1}))
        for _ in range(50):
            if collector.messages:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
    assert [m["id"] for m in collector.messages] == ["own"]


async def test_a_county_reads_only_its_own_down_topic(upper: UpperBroker) -> None:
    received: list[str] = []

    async def listen(client: aiomqtt.Client) -> None:
        async for message in client.messages:
            received.append(str(message.topic))

    async with upper.county_client(OTHER) as other, upper.client(UPPER_USER, UPPER_PASSWORD) as platform:
        await other.subscribe(down_action_topic(COUNTY), qos=1)   # another county's: delivers nothing
        await other.subscribe(down_action_topic(OTHER), qos=1)
        await other.subscribe("hazmon/v1/up/#", qos=1)            # what counties send: delivers nothing either
        task = asyncio.create_task(listen(other))
        await platform.publish(down_action_topic(COUNTY), b'{"v":1}', qos=1)
        await platform.publish(up_topic(COUNTY, "alarm"), b'{"v":1}', qos=1)
        await platform.publish(down_action_topic(OTHER), b'{"v":1}', qos=1)
        for _ in range(50):
            if received:
                break
            await asyncio.sleep(0.1)
        await asyncio.sleep(0.5)
        task.cancel()
    assert received == [down_action_topic(OTHER)]


async def test_a_wrong_password_is_refused(upper: UpperBroker) -> None:
    with pytest.raises(aiomqtt.MqttError):
        async with upper.client(COUNTY, "guess"):
            pass


async def test_over_tls_only(kafka: str, settings: Settings, unique: str) -> None:
    """An upper broker with TLS (as between platforms): the uplink checks its certificate and forwards; a
    client speaking plain MQTT to it gets nowhere."""
    with upper_broker(tls=True) as upper:
        with pytest.raises(aiomqtt.MqttError):
            async with aiomqtt.Client("127.0.0.1", upper.port, username=COUNTY, password=PASSWORDS[COUNTY], timeout=3):
                pass
        suffix = f".test-uplink-{unique}"
        county = uplink_settings(settings, upper, suffix, f"test-uplink-{unique}")
        assert county.uplink_tls_ca is not None
        async with collecting(upper, "registry") as collector, running_uplink(county):
            await eventually(lambda: collector.messages, 30, "the registry summary over TLS")
        await delete_topics(kafka, lambda name: name.endswith(suffix))
    assert collector.messages[0]["county"] == COUNTY


def test_the_prefectures_broker_accounts_from_its_counties(tmp_path: Path) -> None:
    """``hazmon prefecture broker``: an account per county of HAZMON_PREFECTURE_COUNTIES, each fenced by the ACL;
    a county added later gets a password, the others keep theirs (their uplinks have them)."""
    directory = tmp_path / "broker"
    env = {**os.environ, "HAZMON_PREFECTURE_PLATFORM_PASSWORD": "p", "HAZMON_HOME": str(tmp_path)}

    def broker(counties: dict[str, str]) -> dict[str, str]:
        subprocess.run([sys.executable, "-m", "hzctl.cli", "prefecture", "broker", str(directory), "--port", "18999",
                        "--unhashed"], env={**env, "HAZMON_PREFECTURE_COUNTIES": orjson.dumps(counties).decode()},
                       check=True, capture_output=True)
        return orjson.loads((directory / "counties.json").read_bytes())

    first = broker({COUNTY: "永顺县"})
    second = broker({COUNTY: "永顺县", OTHER: "龙山县"})
    assert second[COUNTY] == first[COUNTY] and len(second[OTHER]) >= 24
    assert (directory / "counties.json").stat().st_mode & 0o077 == 0
    acl = (directory / "acl").read_text()
    assert f"user {OTHER}\ntopic write hazmon/v1/up/{OTHER}/#\ntopic read hazmon/v1/down/{OTHER}/#" in acl
    passwd = (directory / "passwd").read_text()
    assert f"{OTHER}:{second[OTHER]}" in passwd   # in clear: the broker's own container hashes it (--unhashed)
