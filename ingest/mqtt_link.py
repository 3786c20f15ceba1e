"""The MQTT side: one connection of the platform account with a persistent session, MQTT v5
shared subscriptions and manual acknowledgements, holding a bounded number of messages.

aiomqtt 2.5 has no manual-ack option of its own; it runs a paho-mqtt 2.x client, whose
``manual_ack_set``/``ack`` are used here, so a message's PUBACK goes out only when the adapter
says so. The adapter asks the broker (MQTT v5 Receive Maximum) for at most
``ingest_receive_maximum`` unacknowledged messages, but Mosquitto 2.0.11 does not keep to it once
the session has a queue: each PUBACK moves up to Receive Maximum more queued messages in flight
(eclipse/mosquitto#2301, fixed in 2.0.13), so a backlog of any size is pushed at the adapter. The
link therefore enforces the bound itself: when the broker has sent more than Receive Maximum
unacknowledged messages, it stops reading the socket until acknowledgements bring it back within
the bound. The backlog waits in the broker (and in TCP buffers), never in the adapter's memory.
While reading is paused no PINGRESP is read either: a pause longer than about two keepalives
(Kafka down meanwhile) ends the connection like any other loss, and the broker sends the
unacknowledged messages again.

The bound is on messages and on their bytes (``ingest_max_unacked_bytes``): 2 000 messages of
256 KiB are 500 MiB, which one enterprise's bad messages made the adapter hold (bench/abuse.py:
407 MB). QoS 0 messages count too: they have nothing to acknowledge, but until the adapter took
them they are held all the same, and a QoS 0 flood would otherwise never pause reading.
"""

from __future__ import annotations

import asyncio
from collections import deque
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.secrets import load_secrets
from hazmon.settings import Settings
from ingest.topics import device_filters, shared


class MqttLink:
    """A client whose messages are acknowledged by ``ack``, in arrival order, on this very connection
    only, and which holds at most ``max_unacked`` + 1 messages not yet acknowledged, or
    ``max_unacked_bytes`` plus one message of payload: past either it stops reading.

    Iterate it for the messages. They are handed over as paho delivers them, without aiomqtt's
    per-message wrapper, queue and task: receiving costs the adapter more than parsing does."""

    subscribed: asyncio.Task[None]  # by subscribe(): done when the broker granted every subscription

    def __init__(self, client: aiomqtt.Client, max_pending_publishes: int, max_unacked: int,
                 max_unacked_bytes: int) -> None:
        self.client = client
        client.pending_calls_threshold = max_pending_publishes + 1  # errors answers: no warning below our cap
        self._paho: paho.Client = client._client  # noqa: SLF001 - manual acks live on the paho client
        self._paho.manual_ack_set(True)  # before CONNECT: the session's queued messages come at once
        self._max_unacked = max_unacked
        self._max_unacked_bytes = max_unacked_bytes
        self._held: deque[int] = deque()  # payload sizes of the messages not acknowledged, in arrival order
        self.held_bytes = 0
        self._reading_paused = False
        self._received: deque[paho.MQTTMessage] = deque()  # not yet taken by the adapter
        self._arrived = asyncio.Event()
        self._paho.on_message = self._on_message

    @property
    def queued(self) -> int:
        """Messages received and not yet taken."""
        return len(self._received)

    def __aiter__(self) -> MqttLink:
        return self

    async def __anext__(self) -> paho.MQTTMessage:
        """The next message; ``aiomqtt.MqttError`` once the connection is gone and its messages
        taken, or as soon as the subscriptions failed."""
        self._raise_if_subscribing_failed()
        while not self._received:
            await self._wait_for_messages()
        return self._received.popleft()

    def ack(self, mid: int) -> None:
        """Done with the oldest message not yet acknowledged (message id ``mid``): its PUBACK, except
        for a QoS 0 message (``mid`` 0), which has nothing to acknowledge (a PUBACK with packet
        identifier 0 is a protocol error, and Mosquitto closes the connection); a no-op on the wire
        once this connection is gone (the broker redelivers)."""
        if self._held:
            self.held_bytes -= self._held.popleft()
        if mid != 0:
            self._paho.ack(mid, 1)
        if self._reading_paused and not self._over_bound():
            self._resume_reading()

    def _over_bound(self) -> bool:
        return len(self._held) > self._max_unacked or self.held_bytes > self._max_unacked_bytes

    async def publish(self, topic: str, payload: bytes) -> None:
        await self.client.publish(topic, payload, qos=1, retain=False)

    def subscribe(self, filters: list[str]) -> None:
        """Subscribe to ``filters`` at QoS 1 in the background; ``subscribed`` completes with the SUBACKs."""
        self.subscribed = asyncio.create_task(self._subscribe(filters))

    async def _subscribe(self, filters: list[str]) -> None:
        for filter_ in filters:
            await self.client.subscribe(filter_, qos=1)

    async def _wait_for_messages(self) -> None:
        gone: asyncio.Future[None] = self.client._disconnected  # noqa: SLF001 - what aiomqtt's iterator waits on
        if gone.done():
            raise aiomqtt.MqttError("Disconnected during message iteration") from gone.exception()
        self._arrived.clear()
        arrived = asyncio.ensure_future(self._arrived.wait())
        waits = {arrived, gone} if self.subscribed.done() else {arrived, gone, self.subscribed}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrived.cancel()
        self._raise_if_subscribing_failed()

    def _raise_if_subscribing_failed(self) -> None:
        if self.subscribed.done() and not self.subscribed.cancelled() and self.subscribed.exception():
            raise self.subscribed.exception()

    def _on_message(self, _client: paho.Client, _userdata: object, message: paho.MQTTMessage) -> None:
        self._held.append(len(message.payload))
        self.held_bytes += len(message.payload)
        self._received.append(message)
        self._arrived.set()
        if not self._reading_paused and self._over_bound():
            self._pause_reading()

    def _pause_reading(self) -> None:
        sock = self._paho.socket()
        if sock is not None:
            asyncio.get_running_loop().remove_reader(sock)
            self._reading_paused = True

    def _resume_reading(self) -> None:
        self._reading_paused = False
        sock = self._paho.socket()
        if sock is not None:  # else the connection is gone: nothing left to read
            asyncio.get_running_loop().add_reader(sock, self._read)

    def _read(self) -> None:
        """What aiomqtt's own socket reader does (no TLS here): read, and end the connection on a failure."""
        try:
            self._paho.loop_read()
        except Exception as exc:  # noqa: BLE001 - handed to the message iteration, as aiomqtt does
            disconnected: asyncio.Future[None] = self.client._disconnected  # noqa: SLF001
            if not disconnected.done():
                disconnected.set_exception(exc)


def ingest_identity(settings: Settings) -> tuple[str, str]:
    """(client id, share group) of this adapter process: the installation's secret ones unless the
    settings name others (tests, side-by-side runs). Known names would let an enterprise account
    join the group and take its share of every device's messages, or take over the session."""
    current = load_secrets(settings.secrets_path)
    return (settings.ingest_client_id or current.ingest_client_id(settings.ingest_instance),
            settings.ingest_share_group or current.platform_mqtt_share_group)


def platform_client(settings: Settings, client_id: str, *, persistent: bool) -> aiomqtt.Client:
    """A client of the platform account; ``persistent`` keeps its session (and queue) across restarts."""
    password = load_secrets(settings.secrets_path).platform_mqtt_password
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = settings.ingest_receive_maximum
    if persistent:
        properties.SessionExpiryInterval = settings.ingest_session_expiry_s
    return aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_platform_user,
                          password=password, identifier=client_id, protocol=aiomqtt.ProtocolVersion.V5,
                          clean_start=not persistent, properties=properties, keepalive=30)


@asynccontextmanager
async def ingest_link(settings: Settings) -> AsyncIterator[MqttLink]:
    """Connected, manual acks on, subscribing to the devices' topics through the shared group.

    The link is handed over before the SUBACKs arrive (``subscribed`` completes with them) and must
    be iterated meanwhile: a resumed session's messages come right after CONNACK, ahead of the
    SUBACKs, and once more than the bound of them is unacknowledged the link reads no further."""
    client_id, group = ingest_identity(settings)
    client = platform_client(settings, client_id, persistent=True)
    link = MqttLink(client, settings.ingest_max_error_replies, settings.ingest_receive_maximum,
                    settings.ingest_max_unacked_bytes)
    async with client:
        link.subscribe([shared(f, group) for f in device_filters(settings.ingest_enterprises)])
        try:
            yield link
        finally:
            link.subscribed.cancel()
