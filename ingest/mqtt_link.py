"""The MQTT side: one connection of the platform account with a persistent session, MQTT v5
shared subscriptions and manual acknowledgements.

aiomqtt 2.5 has no manual-ack option of its own; it runs a paho-mqtt 2.x client, whose
``manual_ack_set``/``ack`` are used here, so a message's PUBACK goes out only when the adapter
says so. The broker sends at most ``ingest_receive_maximum`` unacknowledged messages: that is the
adapter's bounded in-flight buffer.
"""

from __future__ import annotations

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
    """A client whose messages are acknowledged by ``ack``, on this very connection only."""

    def __init__(self, client: aiomqtt.Client, max_pending_publishes: int) -> None:
        self.client = client
        client.pending_calls_threshold = max_pending_publishes + 1  # errors answers: no warning below our cap
        self._paho: paho.Client = client._client  # noqa: SLF001 - manual acks live on the paho client
        self._paho.manual_ack_set(True)  # before CONNECT: the session's queued messages come at once

    @property
    def messages(self) -> aiomqtt.client.MessagesIterator:
        return self.client.messages

    def ack(self, mid: int) -> None:
        """PUBACK for ``mid``; a no-op once this connection is gone (the broker redelivers), and for
        a QoS 0 message (``mid`` 0), which has nothing to acknowledge: a PUBACK with packet
        identifier 0 is a protocol error, and Mosquitto closes the connection."""
        if mid == 0:
            return
        self._paho.ack(mid, 1)

    async def publish(self, topic: str, payload: bytes) -> None:
        await self.client.publish(topic, payload, qos=1, retain=False)


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
    """Connected, subscribed to the devices' topics through the shared group, manual acks on."""
    client = platform_client(settings, settings.ingest_client_id, persistent=True)
    link = MqttLink(client, settings.ingest_max_error_replies)
    async with client:
        for filter_ in device_filters(settings.ingest_enterprises):
            await client.subscribe(shared(filter_, settings.ingest_share_group), qos=1)
        yield link
