"""A simulated gateway on real MQTT: its enterprise's credentials, a retained will, QoS 1, reconnect
with backoff, and an abrupt connection drop on demand (so the broker publishes the will)."""

from __future__ import annotations

import asyncio
import logging
import socket
from dataclasses import dataclass, field

import aiomqtt
from typing import Any

from hazmon.settings import Settings

from device_sim.clock import WarpClock
from device_sim.stream import WILL_PAYLOAD, DeviceMessage

log = logging.getLogger(__name__)


@dataclass
class DeviceStats:
    """What a device did, for the progress line and the final report."""

    published: int = 0
    readings: int = 0
    connects: int = 0
    drops: int = 0
    errors: int = 0
    connected: bool = False
    late_s: list[float] = field(default_factory=list)


class PublishWindow:
    """QoS 1 publishing straight through the paho client under aiomqtt, at most ``size`` messages
    unacknowledged, acknowledgements counted into the device's stats by paho's callback. For the load
    generator: aiomqtt's ``publish`` waits on a future, a timer and a lock per message (and warns past ten
    pending), which was most of the load's CPU."""

    def __init__(self, client: aiomqtt.Client, stats: DeviceStats, size: int, readings_per_message: int) -> None:
        self.paho, self.stats, self.size, self.readings_per_message = client._client, stats, size, readings_per_message
        self.in_flight = 0
        self.room = asyncio.Event()
        forward: Any = self.paho.on_publish   # aiomqtt's own, for the messages it published (the status)

        def acknowledged(paho: object, userdata: object, mid: int, reason_code: object, properties: object) -> None:
            forward(paho, userdata, mid, reason_code, properties)
            self.in_flight -= 1
            self.stats.published += 1
            self.stats.readings += self.readings_per_message
            self.room.set()

        self.paho.on_publish = acknowledged

    @property
    def free(self) -> int:
        return self.size - self.in_flight

    def publish(self, topic: str, payload: bytes) -> None:
        """Hand one message to paho (it goes out when the socket is writable); the caller keeps to ``free``."""
        info = self.paho.publish(topic, payload, qos=1)
        if info.rc != 0:
            raise aiomqtt.MqttCodeError(info.rc, "could not publish")
        self.in_flight += 1

    async def wait_for_room(self) -> None:
        self.room.clear()
        if self.in_flight >= self.size:
            await self.room.wait()

    async def drain(self, timeout_s: float) -> None:
        """Wait until every message handed over is acknowledged."""
        async with asyncio.timeout(timeout_s):
            while self.in_flight:
                self.room.clear()
                await self.room.wait()


class SimDevice:
    """One device (gateway, RTU, fire transmission unit) of one enterprise."""

    def __init__(self, settings: Settings, enterprise: str, device: str, password: str,
                 client_id: str | None = None) -> None:
        self.settings, self.enterprise, self.device, self.password = settings, enterprise, device, password
        self.client_id = client_id or f"sim-{enterprise}-{device}"
        self.stats = DeviceStats()
        self.next_index = 0   # position in the schedule being played

    @property
    def status_topic(self) -> str:
        return f"hazmon/v1/{self.enterprise}/{self.device}/status"

    def client(self) -> aiomqtt.Client:
        return aiomqtt.Client(
            self.settings.mqtt_host, self.settings.mqtt_port, username=self.enterprise, password=self.password,
            identifier=self.client_id, protocol=aiomqtt.ProtocolVersion.V5, keepalive=30,
            will=aiomqtt.Will(self.status_topic, WILL_PAYLOAD, qos=1, retain=True),
            max_inflight_messages=self.settings.sim_max_inflight)

    async def announce(self, client: aiomqtt.Client, online: DeviceMessage | None) -> None:
        """Publish the retained online status (§5) right after connecting."""
        self.stats.connects += 1
        self.stats.connected = True
        payload = online.payload() if online is not None else b'{"v":1,"online":true}'
        await client.publish(self.status_topic, payload, qos=1, retain=True)
        log.debug("device connected", extra={"enterprise": self.enterprise, "device": self.device})

    async def drop(self, client: aiomqtt.Client) -> None:
        """Lose the connection abruptly: no DISCONNECT packet, so the broker publishes the will."""
        sock = client._client.socket()   # the paho socket: there is no public way to lose a connection
        if isinstance(sock, socket.socket):
            sock.shutdown(socket.SHUT_RDWR)
        self.stats.drops += 1
        self.stats.connected = False
        log.info("device connection dropped", extra={"enterprise": self.enterprise, "device": self.device})
        try:
            async with asyncio.timeout(5):
                await asyncio.shield(client._disconnected)
        except (TimeoutError, aiomqtt.MqttError):
            pass   # the broker has seen the connection go either way

    async def publish(self, client: aiomqtt.Client, message: DeviceMessage) -> None:
        await client.publish(message.topic, message.payload(), qos=1)
        self.stats.published += 1
        self.stats.readings += len(message.readings)

    async def run(self, schedule: list[DeviceMessage], clock: WarpClock, end_s: float = 0.0) -> DeviceStats:
        """Play the device's messages at their scenario times, reconnecting with backoff on errors; stay
        connected until scenario second ``end_s``, then disconnect cleanly."""
        self.next_index, backoff = 0, self.settings.sim_backoff_s
        while self.next_index < len(schedule):
            online = schedule[self.next_index] if schedule[self.next_index].kind == "status" else None
            if online is not None:
                await clock.wait_until(online.at_s)
            try:
                async with self.client() as client:
                    await self.announce(client, online)
                    self.next_index += online is not None
                    backoff = self.settings.sim_backoff_s
                    await self.play(client, schedule, clock, end_s)
            except aiomqtt.MqttError as exc:
                self.stats.errors += 1
                self.stats.connected = False
                log.warning("device connection failed, retrying", extra={
                    "enterprise": self.enterprise, "device": self.device, "error": str(exc), "backoff_s": backoff})
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise asyncio.CancelledError from exc   # a stop met the failure (a disconnect's error replaced it): no retry
                await asyncio.sleep(backoff)
                backoff = min(2 * backoff, self.settings.sim_backoff_max_s)
        return self.stats

    async def play(self, client: aiomqtt.Client, schedule: list[DeviceMessage], clock: WarpClock, end_s: float) -> None:
        """Publish from ``next_index`` until a drop or the end of the schedule; a connection error
        leaves ``next_index`` at the first message not yet acknowledged, which goes again."""
        while self.next_index < len(schedule):
            message = schedule[self.next_index]
            lateness = await clock.wait_until(message.at_s)
            self.stats.late_s.append(lateness)
            self.next_index += 1
            if message.kind == "drop":
                await self.drop(client)
                return
            try:
                await self.publish(client, message)
            except aiomqtt.MqttError:
                self.next_index -= 1
                raise
        await clock.wait_until(end_s)
        self.stats.connected = False
