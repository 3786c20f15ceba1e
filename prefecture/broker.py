"""The prefecture's connection to its own broker (``hzctl.stack.upper_broker``) with its platform account,
which reads every county's ``up`` topics and writes their ``down`` topics."""

from __future__ import annotations

import aiomqtt
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon.settings import Settings


def broker_client(settings: Settings, identifier: str, receive_maximum: int) -> aiomqtt.Client:
    """A client in a persistent session (``prefecture_session_expiry_s``), acknowledging received messages only
    when told (``client._client.ack``), at most ``receive_maximum`` of them unacknowledged."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = settings.prefecture_session_expiry_s
    properties.ReceiveMaximum = receive_maximum
    client = aiomqtt.Client(settings.prefecture_broker_host, settings.prefecture_broker_port,
                            username=settings.prefecture_platform_user, password=settings.prefecture_platform_password,
                            identifier=identifier, protocol=aiomqtt.ProtocolVersion.V5, clean_start=False,
                            properties=properties, keepalive=15, timeout=10,
                            tls_params=None if settings.prefecture_broker_tls_ca is None
                            else aiomqtt.TLSParameters(ca_certs=str(settings.prefecture_broker_tls_ca)))
    client._client.manual_ack_set(True)  # noqa: SLF001 - before CONNECT: the session's queued messages come at once
    return client
