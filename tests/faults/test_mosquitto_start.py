"""hzctl.stack.mosquitto_start on persistence files made here (the real broker's restart is
tests/faults/test_mosquitto_restart.py): a recorded shared subscription is added once, for its own
session; what is not Mosquitto's version 6 is left as it is."""

from __future__ import annotations

import struct

from hazmon.mqtt_kept import record_of
from hzctl.stack.mosquitto_start import MAGIC, SUB, subscription, with_shared_subscriptions

SHARED = "$share/group/hazmon/v1/E1/+/telemetry"


def db(*chunks: bytes, version: int = 6) -> bytes:
    return MAGIC + struct.pack("!II", 0, version) + b"".join(chunks)


def subscriptions(data: bytes) -> list[tuple[bytes, bytes, int, int, int]]:
    """(client id, topic, identifier, QoS, options) of every subscription chunk."""
    found, offset = [], len(MAGIC) + 8
    while offset < len(data):
        kind, length = struct.unpack_from("!II", data, offset)
        if kind == 5:
            identifier, id_len, topic_len, qos, options = SUB.unpack_from(data, offset + 8)
            text = data[offset + 8 + SUB.size:offset + 8 + length]
            found.append((text[:id_len], text[id_len:id_len + topic_len], identifier, qos, options))
        offset += 8 + length
    return found


def test_a_recorded_shared_subscription_is_added_once_for_its_session() -> None:
    plain = subscription(b"ingest-1-e-E1", b"hazmon/v1/E1/+/status", 0, 1, 0)
    record = subscription(b"ingest-1-e-E1", record_of(SHARED).encode(), 7, 1, 4)
    other = subscription(b"device-9", b"hazmon/v1/E1/D9/errors", 0, 0, 0)
    restored, added = with_shared_subscriptions(db(plain, record, other))
    assert added == 1
    assert subscriptions(restored)[-1] == (b"ingest-1-e-E1", SHARED.encode(), 7, 1, 4)
    assert with_shared_subscriptions(restored) == (restored, 0)


def test_a_file_of_another_format_is_left_as_it_is() -> None:
    record = subscription(b"ingest-1-e-E1", record_of(SHARED).encode(), 0, 1, 0)
    for data in (db(record, version=5), db(record)[:-3], b"", b"not a mosquitto db at all"):
        assert with_shared_subscriptions(data) == (data, 0)
