"""The two attacks of issue #14 on a real Mosquitto configured as the stack configures it: an
enterprise account must not take the platform's deliveries, neither by joining its shared
subscription (under any name, with wildcards, ``$SYS``) nor by connecting with its client id
(data standard §2, revision 1.1)."""

from __future__ import annotations

import asyncio
import contextlib

import aiomqtt
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.settings import Settings
from ingest.adapter import IngestAdapter
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import read_kafka
from tests.security.conftest import ATTACKER, T0, VICTIM, Broker, enterprise_client, publish_victim, readings

pytestmark = pytest.mark.servers

# what an enterprise can read in the docs, the README and earlier releases, or simply guess
GUESSED_GROUPS = ("hazmon-ingest", "hazmon", "ingest", "hazmon-platform")
GUESSED_CLIENT_IDS = ("hazmon-ingest-1", "hazmon-ingest-2", "hazmon-ingest", "hazmon-platform")


async def _hold_subscriptions(broker: Broker, identifier: str, filters: list[str], seen: list[str],
                              ready: asyncio.Event, stop: asyncio.Event) -> None:
    """One attacker session: subscribe to ``filters`` (each may be refused) and collect what comes."""
    with contextlib.suppress(aiomqtt.MqttError):
        async with enterprise_client(broker, ATTACKER, identifier) as attacker:
            for filter_ in filters:
                with contextlib.suppress(aiomqtt.MqttError, ValueError):  # paho refuses some filters itself
                    await attacker.subscribe(filter_, qos=1)
            ready.set()
            collecting = asyncio.create_task(_collect(attacker, seen))
            await stop.wait()
            collecting.cancel()
    ready.set()


async def _collect(client: aiomqtt.Client, seen: list[str]) -> None:
    async for message in client.messages:
        seen.append(message.topic.value)


async def test_no_enterprise_takes_the_platforms_shared_deliveries(
        broker: Broker, platform_adapter: IngestAdapter, platform_settings: Settings) -> None:
    steal = [f"$share/{group}/hazmon/v1/+/+/{kind}" for group in GUESSED_GROUPS for kind in ("telemetry", "event")]
    steal += [f"$share/{group}/#" for group in GUESSED_GROUPS] + [f"$share/{group}/hazmon/#" for group in GUESSED_GROUPS]
    snoop = ["#", "hazmon/#", "$SYS/#", f"hazmon/v1/{VICTIM}/+/telemetry", f"hazmon/v1/{VICTIM}/+/errors"]
    odd = ["$share/+/hazmon/v1/+/+/telemetry", "$share/#/hazmon/v1/+/+/telemetry", "$share//hazmon/v1/+/+/telemetry"]
    seen: list[str] = []
    stop = asyncio.Event()
    sessions = [(f"attacker-steal-{n}", steal) for n in range(3)]
    sessions += [("attacker-snoop", snoop)] + [(f"attacker-odd-{n}", [f]) for n, f in enumerate(odd)]
    readies = [asyncio.Event() for _ in sessions]
    holders = [asyncio.create_task(_hold_subscriptions(broker, identifier, filters, seen, ready, stop))
               for (identifier, filters), ready in zip(sessions, readies)]
    await asyncio.wait_for(asyncio.gather(*(ready.wait() for ready in readies)), 20)

    await publish_victim(broker, 100, 0)
    topic = PlatformTopics.of(platform_settings).readings
    got = readings(await read_kafka(platform_settings, topic, lambda r: len(readings(r)) >= 100, timeout_s=15))
    stop.set()
    await asyncio.gather(*holders)

    assert sorted(got) == [T0 + n for n in range(100)], f"{100 - len(set(got))} of 100 readings stolen"
    assert not [t for t in seen if t.startswith(f"hazmon/v1/{VICTIM}/") or t.startswith("$SYS")], seen[:10]


async def test_no_enterprise_takes_over_the_platforms_session(
        broker: Broker, platform_adapter: IngestAdapter, platform_settings: Settings) -> None:
    publishing = asyncio.create_task(publish_victim(broker, 60, 1000, pause_s=0.1))
    expiry = Properties(PacketTypes.CONNECT)
    expiry.SessionExpiryInterval = 3600
    for identifier in GUESSED_CLIENT_IDS:
        with contextlib.suppress(aiomqtt.MqttError):
            async with enterprise_client(broker, ATTACKER, identifier, clean_start=False, properties=expiry):
                await asyncio.sleep(1.5)
    await publishing
    topic = PlatformTopics.of(platform_settings).readings
    got = readings(await read_kafka(platform_settings, topic, lambda r: len(readings(r)) >= 60, timeout_s=15))
    assert sorted(set(got)) == [T0 + n for n in range(1000, 1060)], f"{60 - len(set(got))} of 60 readings lost"


async def test_no_retained_message_on_another_enterprises_topic(broker: Broker) -> None:
    topic = f"hazmon/v1/{VICTIM}/RTU01/status"
    with contextlib.suppress(aiomqtt.MqttError):  # refused: PUBACK "not authorized"
        async with enterprise_client(broker, ATTACKER, "attacker-retain") as attacker:
            await attacker.publish(topic, b'{"v":1,"online":false}', qos=1, retain=True)
    platform = aiomqtt.Client(broker.settings.mqtt_host, broker.settings.mqtt_port,
                              username=broker.settings.mqtt_platform_user,
                              password=broker.secrets.platform_mqtt_password, protocol=aiomqtt.ProtocolVersion.V5)
    async with platform:
        await platform.subscribe(topic, qos=1)
        with pytest.raises(TimeoutError):  # no retained message was kept for the victim's device
            await asyncio.wait_for(anext(aiter(platform.messages)), 1.5)


def test_the_platform_identity_is_a_secret_of_each_installation(broker: Broker, platform_settings: Settings) -> None:
    from ingest.mqtt_link import ingest_identity

    client_id, group = ingest_identity(platform_settings)
    assert group not in GUESSED_GROUPS and client_id not in GUESSED_CLIENT_IDS
    assert len(group) >= 20 and len(client_id) >= 20
    second = ingest_identity(platform_settings.model_copy(update={"ingest_instance": 2}))
    assert second[1] == group and second[0] != client_id  # one group, one session per process


def test_sessions_expire_for_every_account(broker: Broker) -> None:
    """Mosquitto 2.0.11 keeps a v5 session as long as its client asks (up to forever) unless this caps it."""
    conf = (broker.settings.home / "conf" / "mosquitto" / "mosquitto.conf").read_text().splitlines()
    assert f"persistent_client_expiration {broker.settings.mqtt_session_expiry_max_h}h" in conf
