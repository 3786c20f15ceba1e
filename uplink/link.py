"""One connection to the upper platform's broker with the county's account: publishes whose PUBACK can be
awaited (and whose refusal is seen), and received messages acknowledged only when the uplink says so.

aiomqtt's ``publish`` waits for the PUBACK but ignores its reason code; an MQTT v5 broker answers a
publish its ACL refuses with a PUBACK "not authorized", and such a message was not delivered. The
link therefore publishes through the paho client underneath and reads each PUBACK's reason code
itself (aiomqtt's own ``publish`` would wait forever on this client: publish through the link). Messages for the county (``down``) are acknowledged by :meth:`UpperLink.ack`, after they
were recorded (paho's manual acks, as ``ingest.mqtt_link`` uses them), so a crash before that gets
them again from the broker's session.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import aiomqtt
import paho.mqtt.client as paho
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties
from paho.mqtt.reasoncodes import ReasonCode

from hazmon.settings import Settings


class UpperLinkError(aiomqtt.MqttError):
    """A publish the upper broker refused or did not acknowledge in time: the connection is given up."""


class UpperLink:
    def __init__(self, client: aiomqtt.Client, publish_timeout_s: float) -> None:
        self.client = client
        self._paho: paho.Client = client._client  # noqa: SLF001 - PUBACK reason codes and manual acks live on paho
        self._timeout_s = publish_timeout_s
        self._acks: dict[int, asyncio.Future[int]] = {}
        self._early: dict[int, int] = {}   # PUBACKs that came before their publish call returned

        def on_publish(c: paho.Client, userdata: object, mid: int, reason: ReasonCode, properties: Properties) -> None:
            waiter = self._acks.pop(mid, None)
            if waiter is None:
                self._early[mid] = reason.value
            elif not waiter.done():
                waiter.set_result(reason.value)

        self._paho.on_publish = on_publish

    def send(self, topic: str, payload: bytes) -> asyncio.Future[int]:
        """Publish at QoS 1 now (messages go out in call order); the future gets the PUBACK's reason code."""
        info = self._paho.publish(topic, payload, qos=1)
        if info.rc != paho.MQTT_ERR_SUCCESS:
            raise UpperLinkError(f"publish on {topic} failed: {paho.error_string(info.rc)}")
        waiter: asyncio.Future[int] = asyncio.get_running_loop().create_future()
        if info.mid in self._early:
            waiter.set_result(self._early.pop(info.mid))
        else:
            self._acks[info.mid] = waiter
        return waiter

    async def delivered(self, waiters: list[asyncio.Future[int]]) -> None:
        """Until the broker acknowledged every one of ``waiters``; UpperLinkError if it refused one or took too long."""
        try:
            async with asyncio.timeout(self._timeout_s):
                codes = await asyncio.gather(*waiters)
        except TimeoutError:
            raise UpperLinkError(f"no PUBACK within {self._timeout_s} s") from None
        refused = [code for code in codes if code >= 0x80]
        if refused:
            raise UpperLinkError(f"the upper broker refused {len(refused)} messages (reason {refused[0]:#x})")

    async def publish(self, topic: str, payload: bytes) -> None:
        await self.delivered([self.send(topic, payload)])

    def ack(self, message: aiomqtt.Message) -> None:
        """Acknowledge a received message: the broker's session lets it go."""
        self._paho.ack(message.mid, message.qos)


@asynccontextmanager
async def upper_link(settings: Settings, county_id: str) -> AsyncIterator[UpperLink]:
    """Connected to the upper broker with the county's account (over TLS when ``uplink_tls_ca`` is set), in its
    persistent session (the down actions sent while the link was away wait there), at most
    ``uplink_max_inflight`` unacknowledged."""
    properties = Properties(PacketTypes.CONNECT)
    properties.SessionExpiryInterval = settings.uplink_session_expiry_s
    properties.ReceiveMaximum = settings.uplink_max_inflight
    client = aiomqtt.Client(settings.uplink_host, settings.uplink_port,
                            username=settings.uplink_username or county_id, password=settings.uplink_password,
                            identifier=settings.uplink_client_id or f"hazmon-uplink-{county_id}",
                            protocol=aiomqtt.ProtocolVersion.V5, clean_start=False, properties=properties,
                            keepalive=15, timeout=settings.uplink_publish_timeout_s,
                            tls_params=None if settings.uplink_tls_ca is None
                            else aiomqtt.TLSParameters(ca_certs=str(settings.uplink_tls_ca)))
    link = UpperLink(client, settings.uplink_publish_timeout_s)
    link._paho.manual_ack_set(True)  # noqa: SLF001 - before CONNECT: the session's queued messages come at once
    link._paho.max_inflight_messages_set(settings.uplink_max_inflight)  # noqa: SLF001
    async with client:
        yield link
