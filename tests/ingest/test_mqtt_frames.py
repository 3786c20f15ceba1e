"""The link's own cutting of the broker's bytes into packets and decoding of plain PUBLISH packets
agree with paho-mqtt's: the same packets, and for each PUBLISH taken without paho the topic, payload
and packet identifier paho's decoder gives; every other packet is left to paho."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from paho.mqtt import _packet
from paho.mqtt.enums import MQTTProtocolVersion
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from ingest.mqtt_frames import PUBLISH, MalformedLength, Received, next_frame, plain_publish


def remaining_length(length: int) -> bytes:
    out = bytearray()
    while True:
        byte, length = length & 0x7F, length >> 7
        out.append(byte | (0x80 if length else 0))
        if not length:
            return bytes(out)


def publish(topic: bytes, payload: bytes, qos: int, mid: int, properties: bytes = b"\x00") -> bytes:
    """A PUBLISH packet as a broker sends it (MQTT 5: properties length then properties)."""
    body = len(topic).to_bytes(2, "big") + topic + (mid.to_bytes(2, "big") if qos else b"") + properties + payload
    return bytes([PUBLISH | qos << 1]) + remaining_length(len(body)) + body


def paho_decoded(packet: bytes) -> tuple[str, bytes, int]:
    frame = next_frame(packet, 0)
    assert frame is not None and frame.end == len(packet)
    result = _packet.decode_publish(frame.command, bytearray(packet[frame.start:]), MQTTProtocolVersion.MQTTv5)
    return result.topic.decode(), bytes(result.payload), result.mid


def taken(packet: bytes) -> Received | None:
    frame = next_frame(packet, 0)
    assert frame is not None
    return plain_publish(frame.command, bytearray(packet[frame.start:frame.end]))


@settings(max_examples=300, deadline=None)
@given(topic=st.text(min_size=1, max_size=80), payload=st.binary(max_size=400), qos=st.sampled_from([0, 1]),
       mid=st.integers(1, 65535))
def test_a_plain_publish_is_what_paho_decodes(topic: str, payload: bytes, qos: int, mid: int) -> None:
    packet = publish(topic.encode(), payload, qos, mid)
    assert taken(packet) == Received(*paho_decoded(packet))
    assert taken(packet) == Received(topic, payload, mid if qos else 0)


def test_a_payload_past_the_two_byte_length_has_a_longer_remaining_length() -> None:
    payload = bytes(range(256)) * 1100   # 281 600 bytes: a three-byte remaining length
    packet = publish(b"hazmon/v1/E/D/telemetry", payload, 1, 7)
    assert next_frame(packet, 0).start == 4  # type: ignore[union-attr]
    assert taken(packet) == Received("hazmon/v1/E/D/telemetry", payload, 7)


@pytest.mark.parametrize("packet", [
    publish(b"hazmon/v1/E/D/telemetry", b"{}", 2, 9),                               # QoS 2: paho answers PUBREC
    publish(b"hazmon/v1/E/D/telemetry", b"{}", 1, 9, properties=b"\x02\x01\x01"),  # payload format indicator
    publish(b"hazmon/v1/\xff/D/telemetry", b"{}", 1, 9),                            # not UTF-8
    bytes([0x40, 0x02, 0x00, 0x09]),                                                # a PUBACK
    bytes([0xD0, 0x00]),                                                            # a PINGRESP
    bytes([PUBLISH | 2, 0x03, 0x00, 0x05, 0x61]),                                   # topic longer than the packet
    bytes([PUBLISH | 2, 0x02, 0x00, 0x00]),                                         # no packet identifier
])
def test_every_other_packet_is_left_to_paho(packet: bytes) -> None:
    assert taken(packet) is None


def test_properties_are_left_to_paho_which_reads_them() -> None:
    properties = Properties(PacketTypes.PUBLISH)
    properties.UserProperty = ("k", "v")
    packet = publish(b"hazmon/v1/E/D/telemetry", b"{}", 1, 3, properties=bytes(properties.pack()))
    assert taken(packet) is None
    assert paho_decoded(packet) == ("hazmon/v1/E/D/telemetry", b"{}", 3)


@settings(max_examples=200, deadline=None)
@given(payloads=st.lists(st.binary(max_size=300), min_size=1, max_size=8), cut=st.integers(0, 3000))
def test_a_stream_is_cut_into_its_packets_wherever_a_read_ends(payloads: list[bytes], cut: int) -> None:
    packets = [publish(b"t/%d" % i, p, 1, i + 1) for i, p in enumerate(payloads)]
    stream = b"".join(packets)
    first = stream[:min(cut, len(stream))]
    whole = 0
    at = 0
    while (frame := next_frame(first, at)) is not None:
        assert first[at:frame.end] == packets[whole]
        at = frame.end
        whole += 1
    assert sum(len(p) for p in packets[:whole]) == at
    assert whole == len(packets) or at + len(packets[whole]) > len(first)  # the next one is not all there yet


def test_a_remaining_length_of_five_bytes_is_malformed() -> None:
    with pytest.raises(MalformedLength):
        next_frame(bytes([PUBLISH, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]) + bytes(10), 0)
    assert next_frame(bytes([PUBLISH, 0xFF, 0xFF, 0xFF, 0x7F]), 0) is None  # four bytes: 256 MB, not there yet
