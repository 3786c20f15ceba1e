"""A broker session per enterprise (or per shard), following the registry without a restart: an
added enterprise gets its session, a removed one loses it and the broker forgets its queue."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiomqtt
import orjson
import paho.mqtt.client as paho
import pytest
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.secrets import load_secrets
from hazmon.settings import Settings
from hzctl.stack.mosquitto import register_enterprises
from ingest.mqtt_link import session_client_id
from ingest.session_plan import plan_sessions
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import (
    RECENT_MS, IngestEnterprise, ingest_settings_for, read_kafka, running_adapter, wait_for_account, write_registry)


def test_one_session_per_enterprise_by_default() -> None:
    plans = plan_sessions(["E1", "E2"], 0)
    assert {name: (sorted(p.enterprises), p.exclusive) for name, p in plans.items()} == \
        {"e-E1": (["E1"], True), "e-E2": (["E2"], True)}


def test_shards_are_stable_when_enterprises_come_and_go() -> None:
    """An enterprise added to the registry must not move another to a session whose queue is elsewhere."""
    before = plan_sessions([f"E{n}" for n in range(100)], 8)
    after = plan_sessions([f"E{n}" for n in range(1, 150)], 8)
    home = {e: name for name, plan in before.items() for e in plan.enterprises}
    assert all(home[e] == name for name, plan in after.items() for e in plan.enterprises if e in home)
    assert len(before) == 8 and not any(plan.exclusive for plan in before.values())


def session_present(settings: Settings, client_id: str) -> bool:
    """Whether the broker still keeps a session for ``client_id`` (it is resumed, and kept again)."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.username_pw_set(settings.mqtt_platform_user, load_secrets(settings.secrets_path).platform_mqtt_password)
    flags: list[bool] = []
    client.on_connect = lambda _c, _u, connect_flags, _r, _p: flags.append(connect_flags.session_present)
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = 60
    client.connect(settings.mqtt_host, settings.mqtt_port, clean_start=False, properties=properties)
    deadline = time.monotonic() + 5
    while not flags and time.monotonic() < deadline:
        client.loop(timeout=0.1)
    client.disconnect()
    assert flags, "no CONNACK"
    return flags[0]


def with_account(settings: Settings, directory: Path, enterprise: str) -> str:
    """``enterprise`` registered in ``directory`` and given a broker account; its password."""
    write_registry(directory, enterprise)
    password = register_enterprises(settings, directory).enterprise(enterprise).mqtt_password
    wait_for_account(settings, enterprise, password)
    return password


@pytest.mark.servers
async def test_registry_changes_add_and_end_sessions(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str, tmp_path: Path) -> None:
    newcomer = f"TSESS-{unique}"[:40]
    password = with_account(mosquitto, tmp_path / "accounts", newcomer)
    registry_dir = tmp_path / "registry"
    write_registry(registry_dir, test_enterprise.id)
    live = IngestEnterprise(test_enterprise.id, registry_dir, test_enterprise.password)
    settings = ingest_settings_for(mosquitto, live, unique, ingest_enterprises=[])
    plan = plan_sessions([newcomer], 0)[f"e-{newcomer}"]
    async with running_adapter(settings) as running:
        (registry_dir / f"{newcomer}.yaml").write_bytes((tmp_path / "accounts" / f"{newcomer}.yaml").read_bytes())
        await asyncio.sleep(1.5)  # two registry polls
        await asyncio.wait_for(running.connected.wait(), 30)  # its session too
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=newcomer, password=password,
                                  protocol=aiomqtt.ProtocolVersion.V5) as gateway:
            body = {"v": 1, "readings": [{"point": "TK01_LT", "value": 3.0, "ts": RECENT_MS}]}
            await gateway.publish(f"hazmon/v1/{newcomer}/RTU01/telemetry", orjson.dumps(body), qos=1)
        records = await read_kafka(settings, PlatformTopics.of(settings).readings, lambda r: len(r) >= 1)
        assert [orjson.loads(r.value)["enterprise"] for r in records] == [newcomer]
        (registry_dir / f"{newcomer}.yaml").unlink()
        await asyncio.sleep(2.0)  # a poll, and the session ended
    assert not await asyncio.to_thread(session_present, settings, session_client_id(settings, plan))
    kept = plan_sessions([test_enterprise.id], 0)[f"e-{test_enterprise.id}"]
    assert await asyncio.to_thread(session_present, settings, session_client_id(settings, kept))


@pytest.mark.servers
async def test_an_enterprise_leaving_a_shard_is_unsubscribed(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str, tmp_path: Path) -> None:
    """A shard's session keeps its subscriptions at the broker: without an UNSUBSCRIBE, the messages
    of an enterprise that left the registry would still come (and be refused as unknown_device)."""
    leaving = f"TSHARD-{unique}"[:40]
    password = with_account(mosquitto, tmp_path / "accounts", leaving)
    registry_dir = tmp_path / "registry"
    write_registry(registry_dir, test_enterprise.id)
    write_registry(registry_dir, leaving)
    live = IngestEnterprise(test_enterprise.id, registry_dir, test_enterprise.password)
    settings = ingest_settings_for(mosquitto, live, unique, ingest_enterprises=[], ingest_session_shards=1)
    topics = PlatformTopics.of(settings)
    async with running_adapter(settings) as running:
        (registry_dir / f"{leaving}.yaml").unlink()
        await asyncio.sleep(1.5)  # two registry polls: the shard's session connects again without it
        await asyncio.wait_for(running.connected.wait(), 30)
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=leaving, password=password,
                                  protocol=aiomqtt.ProtocolVersion.V5) as gateway:
            body = {"v": 1, "readings": [{"point": "TK01_LT", "value": 3.0, "ts": RECENT_MS}]}
            await gateway.publish(f"hazmon/v1/{leaving}/RTU01/telemetry", orjson.dumps(body), qos=1)
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=live.id, password=live.password,
                                  protocol=aiomqtt.ProtocolVersion.V5) as gateway:
            body = {"v": 1, "readings": [{"point": "TK01_LT", "value": 4.0, "ts": RECENT_MS}]}
            await gateway.publish(f"hazmon/v1/{live.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
        records = await read_kafka(settings, topics.readings, lambda r: len(r) >= 1)
        dead = await read_kafka(settings, topics.deadletter, lambda r: len(r) >= 1, timeout_s=2)
    assert [orjson.loads(r.value)["enterprise"] for r in records] == [live.id]  # the one that stayed
    assert dead == [], [dict(r.headers) for r in dead]
    assert running.messages_taken == 1
