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

from device_sim import generate, load_scenario, shipped_scenarios
from device_sim.clock import WarpClock
from device_sim.device import SimDevice
from device_sim.load import LoadPlan, run_load
from device_sim.run import run_scenario
from hzctl.stack.accounts import broker_passwords
from device_sim.stream import MALFORMED_PAYLOADS, DeviceMessage

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
                                                           unique: str, tmp_path) -> None:  # noqa: ANN001
    from hazmon.settings import PACKAGE_DIR
    from hzctl.stack.mosquitto import register_enterprises

    device_id = f"SIMWILL{unique}"
    # a device of its own, registered (the broker's ACL allows only registered devices), whose
    # retained status no other run shares
    (tmp_path / f"{CHEM}.yaml").write_text((PACKAGE_DIR / "sample_registry" / f"{CHEM}.yaml").read_text() +
                                           f"  - {{id: WILL_{unique}, site: TF01, device: {device_id}, "
                                           "type: pressure, range: [0, 2], high: 1, high_high: 1.5}\n")
    register_enterprises(mosquitto, tmp_path)
    await asyncio.sleep(0.5)  # the broker reloads its ACL on SIGHUP
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


async def collect(client: aiomqtt.Client, into: list[tuple[str, dict | None]]) -> None:
    async for message in client.messages:
        try:
            into.append((str(message.topic), orjson.loads(message.payload) if message.payload else None))
        except orjson.JSONDecodeError:
            into.append((str(message.topic), None))


async def test_a_load_run_delivers_its_rate(mosquitto: Settings, platform_secrets: Secrets, unique: str) -> None:
    plan = LoadPlan(connections=3, rate=300.0, seconds=3.0, readings_per_message=20, run_id=unique)
    received: list[tuple[str, dict | None]] = []
    async with platform_client(mosquitto, platform_secrets, unique) as platform:
        await platform.subscribe("hazmon/v1/+/+/telemetry", qos=1)
        listener = asyncio.create_task(collect(platform, received))
        report = await run_load(mosquitto, mosquitto.registry_dir, plan, broker_passwords(mosquitto, mosquitto.registry_dir))
        await asyncio.sleep(1.0)
        listener.cancel()
    ours = [payload for _, payload in received if payload and payload.get("sim") == unique]
    assert report["messages"] == len(ours)
    assert len(ours) == pytest.approx(plan.rate * plan.seconds, rel=0.10)
    assert all(len(p["readings"]) == 20 for p in ours)


async def test_load_parts_split_the_connections_and_the_rate(mosquitto: Settings, platform_secrets: Secrets,
                                                             unique: str) -> None:
    """Two load processes' parts (here two runs side by side) drive disjoint devices, each at its share of
    the rate, every message acknowledged reaching the broker's subscribers."""
    plans = [LoadPlan(connections=3, rate=300.0, seconds=3.0, readings_per_message=5, run_id=unique, part=k, parts=2)
             for k in range(2)]
    received: list[tuple[str, dict | None]] = []
    passwords = broker_passwords(mosquitto, mosquitto.registry_dir)
    async with platform_client(mosquitto, platform_secrets, unique) as platform:
        await platform.subscribe("hazmon/v1/+/+/telemetry", qos=1)
        listener = asyncio.create_task(collect(platform, received))
        reports = await asyncio.gather(*(run_load(mosquitto, mosquitto.registry_dir, plan, passwords) for plan in plans))
        await asyncio.sleep(1.0)
        listener.cancel()
    ours = [(topic, payload) for topic, payload in received if payload and payload.get("sim") == unique]
    assert [(r["connections"], r["target_rate"]) for r in reports] == [(2, 200.0), (1, 100.0)]
    assert sum(r["messages"] for r in reports) == len(ours) > 0   # how many in 3 s depends on the machine: not asserted
    assert len({topic for topic, _ in ours}) == 3


async def test_a_scenario_plays_over_mqtt_with_the_will(mosquitto: Settings, platform_secrets: Secrets,
                                                         sample_registry: Registry, unique: str) -> None:
    scenario = load_scenario(shipped_scenarios()[0].parent / "device_offline.yaml")
    received: list[tuple[str, dict | None]] = []
    async with platform_client(mosquitto, platform_secrets, unique) as platform:
        for enterprise in scenario.enterprises:
            await platform.subscribe(f"hazmon/v1/{enterprise}/+/#", qos=1)
        listener = asyncio.create_task(collect(platform, received))
        report = await run_scenario(mosquitto, mosquitto.registry_dir, scenario, 2400.0,
                                    broker_passwords(mosquitto, mosquitto.registry_dir))
        await asyncio.sleep(1.0)
        listener.cancel()
    start = report["device_start_ms"]
    run = generate(scenario, sample_registry, start)
    sent = [m for m in run.messages if m.kind == "telemetry"]
    ours = [p for topic, p in received if topic.endswith("/telemetry") and p and start <= p.get("ts", 0) <= start + 7200_000]
    assert len(ours) == len(sent) == report["published"]
    gnss = [p for topic, p in received if topic == "hazmon/v1/91433127MA4MINE002/GNSS1/status"]
    online_at = [p["ts"] for p in gnss if p and p.get("online") and start <= p.get("ts", 0) <= start + 7200_000]
    assert online_at == [start, start + 5400_000]
    assert {"v": 1, "online": False} in gnss
    assert report["max_late_s"] < 0.5


async def test_a_refused_device_retries_with_growing_backoff(mosquitto: Settings, unique: str) -> None:
    settings = mosquitto.model_copy(update={"sim_backoff_s": 0.1, "sim_backoff_max_s": 0.4})
    device = SimDevice(settings, CHEM, f"SIMBACKOFF{unique}", "not-the-password")
    schedule = [DeviceMessage(0.0, int(time.time() * 1000), CHEM, device.device, "status")]
    started = time.monotonic()
    with pytest.raises(TimeoutError):
        async with asyncio.timeout(1.6):
            await device.run(schedule, WarpClock(speed=1.0))
    # pauses 0.1, 0.2, 0.4, 0.4 … : about five attempts in 1.6 s, not dozens, and never connected
    assert 3 <= device.stats.errors <= 7
    assert device.stats.connects == 0 and time.monotonic() - started >= 1.5


async def test_transport_faults_reach_the_broker_as_scripted(mosquitto: Settings, platform_secrets: Secrets,
                                                              unique: str) -> None:
    scenario = load_scenario(shipped_scenarios()[0].parent / "transport_faults.yaml")
    raw: list[tuple[str, bytes]] = []
    async with platform_client(mosquitto, platform_secrets, unique) as platform:
        await platform.subscribe(f"hazmon/v1/{CHEM}/RTU01/telemetry", qos=1)
        await platform.subscribe("hazmon/v1/91433127MA4MINE002/RTU01/telemetry", qos=1)

        async def gather_raw() -> None:
            async for message in platform.messages:
                raw.append((str(message.topic), bytes(message.payload)))
        listener = asyncio.create_task(gather_raw())
        report = await run_scenario(mosquitto, mosquitto.registry_dir, scenario, 1800.0,
                                    broker_passwords(mosquitto, mosquitto.registry_dir))
        await asyncio.sleep(1.0)
        listener.cancel()
    start = report["device_start_ms"]
    assert not [t for t, _ in raw if "91433127MA4MINE002" in t]          # the broker ACL refused the foreign topic
    malformed = {p for p, _ in MALFORMED_PAYLOADS}
    assert sum(payload in malformed for _, payload in raw) == 3
    seqs = [orjson.loads(p)["seq"] for _, p in raw if p not in malformed and start <= orjson.loads(p).get("ts", 0)]
    assert len(seqs) == len(set(seqs)) + 2                                 # one message sent twice more
    assert seqs != sorted(seqs)                                            # a minute of them in reverse order
