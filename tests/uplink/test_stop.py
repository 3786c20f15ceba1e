"""A stop reaches the uplink even when its link's disconnect fails: the upper broker frozen (SIGSTOP) with a
message still in the socket, so aiomqtt's DISCONNECT cannot be written and its wait for it times out with
an MqttError, which must not count as a link failure to retry (the process would not stop on SIGTERM); and a
stop that comes as a PUBACK arrives is not lost (CI: the heartbeat went on publishing after its stop, and the
uplink's stop waited until the broker went away)."""

from __future__ import annotations

import asyncio
import signal

import aiomqtt

from hazmon.registry import load_registry
from hazmon.settings import Settings
from testbed.alerting import eventually
from testbed.kafka_admin import delete_topics
from testbed.uplink import COUNTY, UpperBroker, uplink_settings
from uplink.link import UpperLink
from uplink.service import Uplink

STUCK = 64 * 1024 * 1024   # more than loopback's socket buffers hold: the DISCONNECT queues behind it


async def test_a_stop_ends_the_uplink_when_its_disconnect_fails(kafka: str, settings: Settings, upper: UpperBroker,
                                                               unique: str) -> None:
    suffix = f".test-uplink-{unique}"
    uplink = Uplink(uplink_settings(settings, upper, suffix, f"test-uplink-{unique}"), load_registry(settings.registry_dir))
    task = asyncio.create_task(uplink.run())
    assert upper.process is not None
    try:
        await eventually(lambda: uplink._link is not None, 30, "the upper link")
        link = uplink._link   # the connection the uplink serves now
        assert link is not None
        upper.process.send_signal(signal.SIGSTOP)
        link.send(f"hazmon/v1/up/{COUNTY}/registry", bytes(STUCK))   # stays in the socket: the broker reads nothing
        await asyncio.sleep(0.5)
        task.cancel()   # the stop (SIGTERM in production), while the link cannot even say goodbye
        done, _ = await asyncio.wait({task}, timeout=20)
        assert task in done, "the uplink went on after its stop"
        assert task.cancelled()
        assert uplink.connections == 1   # no connection after the stop
    finally:
        upper.process.send_signal(signal.SIGCONT)
        if not task.done():
            task.cancel()
            await asyncio.wait({task}, timeout=20)
        await delete_topics(kafka, lambda name: name.endswith(suffix))


async def test_a_stop_as_the_puback_arrives_ends_the_wait_for_it() -> None:
    """The PUBACK completes the waiter in the same turn of the loop as the stop's cancel: the wait must end
    cancelled (Python 3.11's ``asyncio.wait_for`` returned the PUBACK's code and dropped the cancel)."""
    link = UpperLink(aiomqtt.Client("127.0.0.1"), publish_timeout_s=10)
    acknowledged: asyncio.Future[int] = asyncio.get_running_loop().create_future()
    waiting = asyncio.create_task(link.delivered([acknowledged]))
    await asyncio.sleep(0.01)   # waiting for the PUBACK
    acknowledged.set_result(0)
    waiting.cancel()
    await asyncio.wait({waiting}, timeout=5)
    assert waiting.cancelled()
