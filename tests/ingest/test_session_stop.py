"""A stop reaches ingest's sessions even when a session's disconnect fails: the broker (one of the test's own)
frozen with a message still in the session's socket, so aiomqtt's DISCONNECT cannot be written and its
wait for it ends in an MqttError, which must not count as a lost connection to reconnect."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator

import pytest

from hazmon.registry import load_registry
from hazmon.settings import Settings
from ingest.mqtt_frames import Message
from ingest.mqtt_link import MqttLink
from ingest.session_plan import SessionPlan
from ingest.sessions import SessionPool
from testbed.alerting import eventually
from testbed.faults.mqtt_broker import OwnBroker

pytestmark = pytest.mark.servers
STUCK = 64 * 1024 * 1024   # more than loopback's socket buffers hold: the DISCONNECT queues behind it


@pytest.fixture
def broker(settings: Settings) -> Iterator[OwnBroker]:
    own = OwnBroker(settings, 1, 23)
    try:
        own.start()
        yield own
    finally:
        own.server.process.signal(signal.SIGCONT)
        own.stop()


async def take_nothing(link: MqttLink, plan: SessionPlan, message: Message) -> None:
    """No device publishes here."""


async def test_a_stop_ends_the_sessions_when_a_disconnect_fails(broker: OwnBroker, unique: str) -> None:
    settings = broker.settings.model_copy(update={"ingest_retry_s": 0.2, "ingest_client_id": f"test-stop-{unique}"})
    pool = SessionPool(settings, take_nothing)
    pool.apply(frozenset(load_registry(settings.registry_dir).enterprises))
    await eventually(pool.connected.is_set, 30, "every session subscribed")
    link = next(iter(pool.links.values()))
    broker.server.process.signal(signal.SIGSTOP)
    link.client._client.publish("hazmon/v1/stuck", bytes(STUCK), qos=0)   # stays in the socket: the broker reads nothing
    await asyncio.sleep(0.5)
    closing = asyncio.create_task(pool.close())   # the stop, while that session cannot even say goodbye
    done, _ = await asyncio.wait({closing}, timeout=30)   # aiomqtt gives up a disconnect after 10 s
    broker.server.process.signal(signal.SIGCONT)
    if closing not in done:   # with the broker back, a second stop ends them, not to leave them running
        await asyncio.wait({closing, asyncio.create_task(pool.close())}, timeout=30, return_when=asyncio.ALL_COMPLETED)
    assert closing in done, "a session went on after its stop"
