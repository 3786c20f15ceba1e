"""MQTT packets cut out of the bytes read from the broker, and the plain PUBLISH packets decoded
without paho-mqtt's per-message objects.

paho-mqtt 2.2 reads a packet with three or more ``recv`` calls (its first byte, its remaining
length a byte at a time, its body), one packet per readable event, and builds for each PUBLISH an
MQTT v5 ``Properties`` (a dictionary of 27 names and one of 27 property types), an ``MQTTMessage``
with a ``threading.Condition`` and a topic matcher walk: at 2 000 messages/s that was 44 % of the
adapter's CPU (docs/benchmarks.md, "Where the CPU goes"). The link (``ingest.mqtt_link``) reads what
the socket holds at once and cuts it into packets here; a QoS 0 or 1 PUBLISH without properties
and with a UTF-8 topic (every message a gateway sends through Mosquitto without v5 properties)
becomes a ``Received``; any other packet is handed to paho as it was.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol

PUBLISH = 0x30
MAX_LENGTH_BYTES = 4  # MQTT's Variable Byte Integer: a remaining length has at most 4 bytes


class MalformedLength(Exception):
    """A remaining length of more than four bytes: the connection is broken or hostile."""


class Message(Protocol):
    """What the adapter takes of a received PUBLISH: a ``Received`` or paho's ``MQTTMessage``."""

    @property
    def topic(self) -> str: ...

    @property
    def payload(self) -> bytes | bytearray: ...

    @property
    def mid(self) -> int: ...


@dataclass(frozen=True, slots=True)
class Received:
    topic: str
    payload: bytes
    mid: int  # its packet identifier; 0 for QoS 0 (nothing to acknowledge)


@dataclass(frozen=True, slots=True)
class Frame:
    """One whole packet of ``buffer``: its first byte, and where its body starts and ends."""

    command: int
    start: int
    end: int


def next_frame(buffer: bytes | bytearray, at: int) -> Frame | None:
    """The packet beginning at ``at``, or None while ``buffer`` does not hold all of it yet."""
    length = 0
    shift = 0
    index = at + 1
    while True:
        if index >= len(buffer):
            return None
        byte = buffer[index]
        length += (byte & 0x7F) << shift
        index += 1
        if not byte & 0x80:
            break
        if index - at - 1 >= MAX_LENGTH_BYTES:
            raise MalformedLength(f"remaining length longer than {MAX_LENGTH_BYTES} bytes")
        shift += 7
    if index + length > len(buffer):
        return None
    return Frame(buffer[at], index, index + length)


def plain_publish(command: int, body: bytes | bytearray) -> Received | None:
    """The message of a PUBLISH body with QoS 0 or 1, no properties and a UTF-8 topic; None for any
    other packet (paho decodes those, and refuses the malformed ones)."""
    if command & 0xF0 != PUBLISH:
        return None
    qos = (command >> 1) & 0x03
    if qos > 1 or len(body) < 2:
        return None
    topic_end = 2 + (body[0] << 8 | body[1])
    mid = 0
    at = topic_end
    if qos:
        if len(body) < at + 2:
            return None
        mid = body[at] << 8 | body[at + 1]
        at += 2
    if len(body) <= at or body[at] != 0:  # a properties length of 0: none
        return None
    try:
        topic = body[2:topic_end].decode()
    except UnicodeDecodeError:
        return None
    return Received(topic, bytes(body[at + 1:]), mid)
