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

An adapter process holds several links, one per broker session (``ingest.sessions``): each has its
own bound (``ingest_session_max_unacked``, ``ingest_session_max_unacked_bytes``, its Receive Maximum)
and all of them share one ``InFlightBudget`` (``ingest_receive_maximum``, ``ingest_max_unacked_bytes``):
when the budget is spent every link stops reading until acknowledgements bring it back, so the
process holds at most the budget plus one message. A link can also be paused for a while
(``pause_for``): its enterprise is over its rate, and its backlog waits in its own broker queue.

The link reads the socket itself: what it holds at once (up to ``READ_BYTES``), cut into packets by
``ingest.mqtt_frames``; plain PUBLISH packets become messages without paho, every other packet is
handed to paho as if paho had read it (CONNACK, SUBACK, PINGRESP, PUBACKs of the answers, a
DISCONNECT). While reading is paused, what was read and not yet cut stays unread in the link (at most
``READ_BYTES``), as it would in the socket's buffer.
"""

from __future__ import annotations

import asyncio
import time
from typing import TYPE_CHECKING, Any
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.client import PUBACK
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.mqtt_kept import record_of
from hazmon.secrets import load_secrets
from hazmon.settings import Settings
from ingest.mqtt_frames import MalformedLength, Message, next_frame, plain_publish
from ingest.session_plan import SessionPlan
from ingest.topics import device_filters, shared

if TYPE_CHECKING:
    from paho.mqtt.client import SocketLike

READ_BYTES = 64 * 1024  # read from the socket at once: tens of messages a system call
PUBACK_HEAD = bytes([PUBACK, 2])  # a PUBACK without reason code and properties: success (MQTT 5 §3.4.2.1)


class InFlightBudget:
    """Messages and payload bytes held (received, not acknowledged) over every link of the process."""

    def __init__(self, max_messages: int, max_bytes: int) -> None:
        self.max_messages = max_messages
        self.max_bytes = max_bytes
        self.messages = 0
        self.bytes = 0
        self.links: set[MqttLink] = set()

    @classmethod
    def from_settings(cls, settings: Settings) -> InFlightBudget:
        return cls(settings.ingest_receive_maximum, settings.ingest_max_unacked_bytes)

    def spent(self) -> bool:
        return self.messages > self.max_messages or self.bytes > self.max_bytes

    def reached(self) -> bool:
        """At its bound: the brokers send no more (``spent`` is past it, where the links stop reading)."""
        return self.messages >= self.max_messages or self.bytes >= self.max_bytes

    def take(self, size: int) -> None:
        self.messages += 1
        self.bytes += size
        if self.spent():
            for link in self.links:
                link.update_reading()

    def give_back(self, size: int) -> None:
        was_spent = self.spent()
        self.messages -= 1
        self.bytes -= size
        if was_spent and not self.spent():
            for link in self.links:
                link.update_reading()


class MqttLink:
    """A client whose messages are acknowledged by ``ack_all``, in arrival order, on this very connection
    only, and which holds at most ``max_unacked`` + 1 messages not yet acknowledged, or
    ``max_unacked_bytes`` plus one message of payload: past either it stops reading.

    Iterate it for the messages. They are handed over as paho delivers them, without aiomqtt's
    per-message wrapper, queue and task: receiving costs the adapter more than parsing does."""

    subscribed: asyncio.Task[None]  # by subscribe(): done when the broker granted every subscription

    def __init__(self, client: aiomqtt.Client, max_pending_publishes: int, max_unacked: int,
                 max_unacked_bytes: int, budget: InFlightBudget) -> None:
        self.client = client
        self._budget = budget
        client.pending_calls_threshold = max_pending_publishes + 1  # errors answers: no warning below our cap
        self._paho: paho.Client = client._client  # noqa: SLF001 - manual acks live on the paho client
        self._paho.manual_ack_set(True)  # before CONNECT: the session's queued messages come at once
        self._max_unacked = max_unacked
        self._max_unacked_bytes = max_unacked_bytes
        self._held: deque[int] = deque()  # payload sizes of the messages not acknowledged, in arrival order
        self.held_bytes = 0
        self._reading_paused = False
        self._rate_pause: asyncio.TimerHandle | None = None  # over its enterprise's rate until this fires
        self._received: deque[Message] = deque()  # not yet taken by the adapter
        self._arrived = asyncio.Event()
        self._loop = asyncio.get_running_loop()
        self._unread = bytearray()  # read from the socket, not yet cut into packets
        self._paho.on_message = self._on_message
        aiomqtt_opened = self._paho.on_socket_open
        assert aiomqtt_opened is not None  # aiomqtt's: adds its socket reader
        self._paho.on_socket_open = partial(self._socket_opened, aiomqtt_opened)

    @property
    def queued(self) -> int:
        """Messages received and not yet taken."""
        return len(self._received)

    @property
    def full(self) -> bool:
        """Holding as many unacknowledged messages (or bytes) as it may, its own or the process's: nothing
        more comes on this connection until some are acknowledged."""
        return len(self._held) >= self._max_unacked or self.held_bytes >= self._max_unacked_bytes or self._budget.reached()

    def __aiter__(self) -> MqttLink:
        return self

    async def __anext__(self) -> Message:
        """The next message; ``aiomqtt.MqttError`` once the connection is gone and its messages
        taken, or as soon as the subscriptions failed."""
        self._raise_if_subscribing_failed()
        while not self._received:
            await self._wait_for_messages()
        return self._received.popleft()

    def ack_all(self, mids: list[int]) -> None:
        """Done with the oldest ``len(mids)`` messages not yet acknowledged (message ids ``mids``, in
        arrival order): their PUBACKs, in one write, except for QoS 0 messages (``mid`` 0), which have
        nothing to acknowledge (a PUBACK with packet identifier 0 is a protocol error, and Mosquitto
        closes the connection); a no-op on the wire once this connection is gone (the broker redelivers).
        The PUBACKs are paho's (``Client.ack``: type, remaining length 2, packet identifier), queued
        as one packet of paho's: one system call and one writer turn for a flush, not one a message."""
        for _ in mids:
            if self._held:
                size = self._held.popleft()
                self.held_bytes -= size
                self._budget.give_back(size)
        pubacks = b"".join(PUBACK_HEAD + mid.to_bytes(2, "big") for mid in mids if mid != 0)
        if pubacks:
            self._paho._packet_queue(PUBACK, pubacks, 0, 1)  # noqa: SLF001 - what Client.ack does for each
        self.update_reading()

    def pause_for(self, seconds: float) -> None:
        """Read nothing for ``seconds`` (or longer, if a pause already lasts longer)."""
        loop = asyncio.get_running_loop()
        if self._rate_pause is not None:
            if self._rate_pause.when() >= loop.time() + seconds:
                return
            self._rate_pause.cancel()
        self._rate_pause = loop.call_later(seconds, self._rate_pause_over)
        self.update_reading()

    def _rate_pause_over(self) -> None:
        self._rate_pause = None
        self.update_reading()

    def release(self) -> None:
        """The connection is over: give its messages' room back to the budget."""
        self._budget.links.discard(self)
        if self._rate_pause is not None:
            self._rate_pause.cancel()
        while self._held:
            self._budget.give_back(self._held.popleft())
        self.held_bytes = 0

    def update_reading(self) -> None:
        """Read the socket exactly when no bound is reached and no pause lasts."""
        wanted = not (self._over_bound() or self._budget.spent() or self._rate_pause is not None)
        if wanted and self._reading_paused:
            self._resume_reading()
        elif not wanted and not self._reading_paused:
            self._pause_reading()

    def _over_bound(self) -> bool:
        return len(self._held) > self._max_unacked or self.held_bytes > self._max_unacked_bytes

    async def publish(self, topic: str, payload: bytes) -> None:
        await self.client.publish(topic, payload, qos=1, retain=False)

    def subscribe(self, filters: list[str], gone: list[str]) -> None:
        """Subscribe to ``filters`` at QoS 1 and unsubscribe from ``gone`` (a session keeps its
        subscriptions), in the background; ``subscribed`` completes with the SUBACKs and UNSUBACKs.
        Each shared subscription comes with its record (``hazmon.mqtt_kept``): Mosquitto does not keep
        shared subscriptions across a restart, the broker's start puts the recorded ones back."""
        self.subscribed = asyncio.create_task(self._subscribe(filters, gone))

    async def _subscribe(self, filters: list[str], gone: list[str]) -> None:
        for filter_ in filters:
            await self.client.subscribe([(record_of(filter_), 1), (filter_, 1)])
        for filter_ in gone:
            await self.client.unsubscribe([filter_, record_of(filter_)])

    async def _wait_for_messages(self) -> None:
        gone: asyncio.Future[None] = self.client._disconnected  # noqa: SLF001 - what aiomqtt's iterator waits on
        if gone.done():
            raise aiomqtt.MqttError("Disconnected during message iteration") from gone.exception()
        self._arrived.clear()
        arrived = asyncio.ensure_future(self._arrived.wait())
        waits: set[asyncio.Future[Any]] = {arrived, gone} if self.subscribed.done() else {arrived, gone, self.subscribed}
        try:
            await asyncio.wait(waits, return_when=asyncio.FIRST_COMPLETED)
        finally:
            arrived.cancel()
        self._raise_if_subscribing_failed()

    def _raise_if_subscribing_failed(self) -> None:
        if self.subscribed.done() and not self.subscribed.cancelled():
            failure = self.subscribed.exception()
            if failure is not None:
                raise failure

    def _on_message(self, _client: paho.Client, _userdata: object, message: Message) -> None:
        size = len(message.payload)
        self._held.append(size)
        self.held_bytes += size
        self._received.append(message)
        self._arrived.set()
        self._budget.take(size)
        if not self._reading_paused and self._over_bound():
            self._pause_reading()

    def _pause_reading(self) -> None:
        sock = self._paho.socket()
        if sock is not None:
            self._loop.remove_reader(sock)
            self._reading_paused = True

    def _resume_reading(self) -> None:
        self._reading_paused = False
        sock = self._paho.socket()
        if sock is not None:  # else the connection is gone: nothing left to read
            self._loop.add_reader(sock, self._read)
            if self._unread:  # read before the pause: the socket will not say so again
                self._loop.call_soon(self._take_unread)

    def _socket_opened(self, aiomqtt_opened: Callable[[paho.Client, Any, SocketLike], None], client: paho.Client,
                       userdata: Any, sock: SocketLike) -> None:
        """paho connected (on the thread aiomqtt connects from): aiomqtt adds its socket reader, then
        this link's reader takes its place."""
        aiomqtt_opened(client, userdata, sock)
        self._loop.call_soon_threadsafe(self._take_over_reading, sock)

    def _take_over_reading(self, sock: SocketLike) -> None:
        if self._paho.socket() is sock and not self._reading_paused:
            self._loop.add_reader(sock, self._read)

    def _read(self) -> None:
        """Read what the socket holds (no TLS here) and take its whole packets; a closed or failed
        socket ends the connection as paho's own read does."""
        sock = self._paho.socket()
        if sock is None:
            return
        try:
            data = sock.recv(READ_BYTES)
        except BlockingIOError:
            return
        except OSError:
            data = b""
        if not data:
            self._paho._loop_rc_handle(paho.MQTTErrorCode.MQTT_ERR_CONN_LOST)  # noqa: SLF001 - paho's own ending
            return
        self._unread += data
        self._paho._last_bytes_received = time.monotonic()  # noqa: SLF001 - what paho's keepalive looks at
        self._take_unread()

    def _take_unread(self) -> None:
        """Take the whole packets read, until reading is paused; a failure ends the connection, as in
        aiomqtt's own socket reader."""
        try:
            self._take_packets()
        except Exception as exc:  # noqa: BLE001 - handed to the message iteration, as aiomqtt does
            disconnected: asyncio.Future[None] = self.client._disconnected  # noqa: SLF001
            if not disconnected.done():
                disconnected.set_exception(exc)

    def _take_packets(self) -> None:
        unread = self._unread
        at = 0
        try:
            while not self._reading_paused and self._paho.socket() is not None:
                frame = next_frame(unread, at)
                if frame is None:
                    return
                at = frame.end
                body = unread[frame.start:frame.end]
                message = plain_publish(frame.command, body)
                if message is not None:
                    self._on_message(self._paho, None, message)
                elif frame.command == 0:  # read by paho as no packet at all
                    self._paho._loop_rc_handle(paho.MQTTErrorCode.MQTT_ERR_PROTOCOL)  # noqa: SLF001
                else:
                    self._hand_to_paho(frame.command, body)
        except MalformedLength:
            self._paho._loop_rc_handle(paho.MQTTErrorCode.MQTT_ERR_PROTOCOL)  # noqa: SLF001 - as paho's own read
        finally:
            del unread[:at]

    def _hand_to_paho(self, command: int, body: bytearray) -> None:
        """paho handles the packet as if it had just read it itself."""
        self._paho._in_packet = {  # noqa: SLF001 - paho's state once a packet is read whole
            "command": command, "have_remaining": 1, "remaining_count": [], "remaining_mult": 1,
            "remaining_length": len(body), "packet": body, "to_process": 0, "pos": 0}
        rc = self._paho._packet_read()  # noqa: SLF001 - with nothing left to read: handles the packet
        if rc > 0:
            self._paho._loop_rc_handle(rc)  # noqa: SLF001 - what paho's loop_read does with a failure


def ingest_identity(settings: Settings) -> tuple[str, str]:
    """(client id prefix, share group) of this adapter process: the installation's secret ones unless
    the settings name others (tests, side-by-side runs). Known names would let an enterprise account
    join the group and take its share of every device's messages, or take over a session."""
    current = load_secrets(settings.secrets_path)
    return (settings.ingest_client_id or current.ingest_client_id(settings.ingest_instance),
            settings.ingest_share_group or current.platform_mqtt_share_group)


def session_client_id(settings: Settings, plan: SessionPlan) -> str:
    """The client id of one broker session of this process: ``<secret prefix>-<instance>-<session>``."""
    return f"{ingest_identity(settings)[0]}-{plan.name}"


def platform_client(settings: Settings, client_id: str, *, persistent: bool,
                    receive_maximum: int | None = None) -> aiomqtt.Client:
    """A client of the platform account; ``persistent`` keeps its session (and queue) across restarts."""
    password = load_secrets(settings.secrets_path).platform_mqtt_password
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = receive_maximum or settings.ingest_receive_maximum
    if persistent:
        properties.SessionExpiryInterval = settings.ingest_session_expiry_s
    return aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_platform_user,
                          password=password, identifier=client_id, protocol=aiomqtt.ProtocolVersion.V5,
                          clean_start=not persistent, properties=properties, keepalive=30)


def session_filters(settings: Settings, enterprises: frozenset[str]) -> list[str]:
    """Shared subscriptions to every kind of message of ``enterprises``, in the group of the session
    layout: sessions of another layout (``ingest_session_shards`` changed), parked at the broker until
    they expire, are another group then, which gets copies instead of taking its turn of the messages."""
    group = ingest_identity(settings)[1]
    if settings.ingest_session_shards:
        group += f"-s{settings.ingest_session_shards}"
    return [shared(f, group) for f in device_filters(sorted(enterprises))]


@asynccontextmanager
async def ingest_link(settings: Settings, plan: SessionPlan, budget: InFlightBudget | None = None,
                      left: frozenset[str] = frozenset()) -> AsyncIterator[MqttLink]:
    """One session of the plan connected, manual acks on, subscribing to its enterprises' topics
    through the shared group (and no longer to those of the enterprises that ``left`` it).

    The link is handed over before the SUBACKs arrive (``subscribed`` completes with them) and must
    be iterated meanwhile: a resumed session's messages come right after CONNACK, ahead of the
    SUBACKs, and once more than the bound of them is unacknowledged the link reads no further."""
    receive_maximum = min(settings.ingest_session_max_unacked, settings.ingest_receive_maximum)
    client = platform_client(settings, session_client_id(settings, plan), persistent=True,
                             receive_maximum=receive_maximum)
    budget = budget or InFlightBudget.from_settings(settings)
    link = MqttLink(client, settings.ingest_max_error_replies, receive_maximum,
                    min(settings.ingest_session_max_unacked_bytes, settings.ingest_max_unacked_bytes), budget)
    budget.links.add(link)
    try:
        async with client:
            link.update_reading()  # the budget may be spent already
            link.subscribe(session_filters(settings, plan.enterprises), session_filters(settings, left))
            try:
                yield link
            finally:
                link.subscribed.cancel()
    finally:
        link.release()


async def end_session(settings: Settings, plan: SessionPlan) -> None:
    """Make the broker forget a session and its queue (its enterprise left the registry): connect
    with a clean start and no expiry, and leave."""
    async with platform_client(settings, session_client_id(settings, plan), persistent=False):
        pass
