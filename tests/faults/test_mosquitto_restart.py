"""Mosquitto restarted under load with devices and ingest connected: every reading a device had
acknowledged (PUBACK) reaches Kafka, at least once (repeats counted), and the devices and ingest are
connected again within seconds.

The broker is the test's own (configured by hzctl.stack.mosquitto exactly as the stack's, on free
ports in a directory of its own); ingest runs as a child on it (testbed/pipeline.py) and writes to
the shared Kafka on topics of its own. Two restarts:

- ``through the stack``: stopped (SIGTERM) and started as ``hazmon stack up`` starts it (``prepare``, then
  ``argv``);
- ``keeping its persistence``: SIGTERM and the same command again, as a service manager restarts it.

Both keep ``mosquitto.db``: Mosquitto writes its sessions, their queues and their plain subscriptions to it
on SIGTERM, and its start (``hzctl.stack.mosquitto_start``) puts back the shared subscriptions that
Mosquitto 2.0 does not keep, from the records ingest's sessions hold (``hazmon.mqtt_kept``). Before that,
both restarts lost what devices published until ingest had subscribed again (≈ 1 s), and the stack's lost
ingest's queues too (``prepare`` deleted the file): docs/reliability.md.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from hazmon.registry import load_registry
from hazmon.secrets import load_secrets
from hazmon.settings import Settings
from ingest.mqtt_link import ingest_link
from ingest.session_plan import SessionPlan
from testbed.pipeline import INGEST_SUBSCRIBED, IsolatedPipeline
from testbed.faults.feed import Feed, progress, settled_losses
from testbed.faults.mqtt_broker import OwnBroker

pytestmark = pytest.mark.servers
ENTERPRISES = 4
CONNECTIONS = 8
MESSAGES_PER_S = 40.0
BEFORE_S, AFTER_S = 8.0, 12.0
RECONNECT_GOAL_S = 10.0


@pytest.fixture
def broker(settings: Settings) -> Iterator[OwnBroker]:
    own = OwnBroker(settings, ENTERPRISES, 21)
    try:
        own.start()
        yield own
    finally:
        own.stop()


@pytest.mark.parametrize("restart", [pytest.param(OwnBroker.restart_through_the_stack, id="through-the-stack"),
                                     pytest.param(OwnBroker.restart_keeping_its_persistence,
                                                  id="keeping-its-persistence")])
async def test_a_broker_restart_under_load_loses_no_acknowledged_reading(broker: OwnBroker, kafka: str, influxdb: Settings,
                                                                         tmp_path: Path, unique: str, restart) -> None:
    own = broker.settings
    secrets = load_secrets(own.secrets_path)
    run = IsolatedPipeline(influxdb.model_copy(update={"secrets_file": own.secrets_path}), tmp_path / "home",
                           own.registry_dir, unique, secrets.duty_token,
                           enterprises=tuple(load_registry(own.registry_dir).enterprises))
    run.env.update(broker.env)
    feed = Feed(own, secrets, own.registry_dir, CONNECTIONS, MESSAGES_PER_S, alarm_every_s=3600)
    stop = asyncio.Event()
    await run.create_topics()
    try:
        ingest = run.start_ingest()
        await wait_subscribed(ingest.log_file, 1)
        feeding = asyncio.create_task(feed.run(stop))
        await asyncio.sleep(BEFORE_S)
        progress(f"restarting the broker after {len(feed.acked)} readings")
        restarted = time.monotonic()
        await asyncio.to_thread(restart, broker)
        progress("broker back")
        ingest_s = await wait_subscribed(ingest.log_file, 2) - restarted
        await asyncio.sleep(AFTER_S)
        stop.set()
        await feeding
        figures = await settled_losses(run, feed)
        progress(f"{figures}, ingest subscribed again after {ingest_s:.1f} s, devices after {feed.reconnects}")
        assert figures["readings_lost"] == 0, figures
        assert ingest_s < RECONNECT_GOAL_S
        assert feed.reconnects and max(feed.reconnects) < RECONNECT_GOAL_S, feed.reconnects
    finally:
        stop.set()
        await feed.close()
        await asyncio.to_thread(run.supervisor.stop_all)
        await run.drop_topics()


async def wait_subscribed(log_file: Path, times: int, timeout_s: float = 60.0) -> float:
    """Monotonic time at which ingest's log says it subscribed for the ``times``-th time."""
    deadline = time.monotonic() + timeout_s
    while (log := await asyncio.to_thread(log_file.read_text, errors="replace")).count(INGEST_SUBSCRIBED) < times:
        assert time.monotonic() < deadline, f"ingest did not subscribe {times} times:\n{log[-3000:]}"
        await asyncio.sleep(0.1)
    return time.monotonic()



@pytest.mark.parametrize("restart", [pytest.param(OwnBroker.restart_through_the_stack, id="through-the-stack"),
                                     pytest.param(OwnBroker.restart_keeping_its_persistence,
                                                  id="keeping-its-persistence")])
async def test_an_ingest_session_keeps_its_shared_subscriptions_across_a_restart(broker: OwnBroker, restart) -> None:
    """The cause of the losses above, alone: an ingest session (persistent: clean start off, a session expiry)
    subscribed through its share group, away while the broker restarts; what a device publishes meanwhile must wait
    in its queue. Mosquitto 2.0 restores the session but not its shared subscriptions (hazmon.mqtt_kept), so without
    the records that hzctl.stack.mosquitto_start turns back into them the message matches no subscription and is
    dropped, although the broker acknowledged it."""
    tag = uuid.uuid4().hex[:6]
    own = broker.settings.model_copy(update={"ingest_client_id": f"faults-{tag}", "ingest_share_group": f"faults-{tag}"})
    registry = load_registry(own.registry_dir)
    enterprise = sorted(registry.enterprises)[0]
    device = sorted(registry.devices(enterprise))[0]
    plan = SessionPlan(f"e-{enterprise}", frozenset({enterprise}), True)
    async with ingest_link(own, plan) as link:
        await link.subscribed
    await asyncio.to_thread(restart, broker)
    password = load_secrets(own.secrets_path).platform_mqtt_password
    async with aiomqtt.Client(own.mqtt_host, own.mqtt_port, username=own.mqtt_platform_user, password=password,
                              protocol=aiomqtt.ProtocolVersion.V5) as device_side:
        await device_side.publish(f"hazmon/v1/{enterprise}/{device}/telemetry", b"while away", qos=1)
    async with ingest_link(own, plan) as link, asyncio.timeout(5):
        message = await anext(link)
    assert message.payload == b"while away"
