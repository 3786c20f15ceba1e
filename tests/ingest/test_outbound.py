"""One flush batch: readings of many messages per record, in order, records split below Kafka's
size limit, acknowledgements in arrival order, one errors answer per reason, one dead letter per
refused message."""

from __future__ import annotations

import aiomqtt
import orjson
import paho.mqtt.client as paho

from hazmon.settings import Settings
from ingest.directory import DeviceDirectory
from ingest.mqtt_frames import Received
from ingest.mqtt_link import InFlightBudget, MqttLink
from ingest.outbound import MAX_READINGS_PER_RECORD, MAX_REPLY_DETAILS, FlushBatch
from ingest.parser import parse_message
from hazmon.topics import PlatformTopics
from ingest.topics import Kind
from tests.ingest.conftest import UNIT_ENTERPRISE

RECV = 1_764_376_900_000
BASE = RECV - 3_600_000  # readings of the last hour


class Connection:
    def ack_all(self, mids: list[int]) -> None:
        raise AssertionError("a flush batch never acknowledges by itself")


def telemetry(directory: DeviceDirectory, first_ts: int, count: int, bad: int = 0) -> tuple[bytes, object]:
    readings = [{"point": "TK01_LT", "value": 1.0, "ts": BASE + first_ts + i} for i in range(count)]
    readings += [{"point": f"NOPE{i}", "value": 1.0} for i in range(bad)]
    payload = orjson.dumps({"v": 1, "readings": readings})
    return payload, parse_message(Kind.TELEMETRY, UNIT_ENTERPRISE, "RTU01", payload, RECV, directory, "en")


def test_readings_of_many_messages_share_records_in_order(directory: DeviceDirectory) -> None:
    batch = FlushBatch(PlatformTopics.of(Settings()))
    link = Connection()
    per_message = 900
    messages = MAX_READINGS_PER_RECORD // per_message * 2 + 1
    for m in range(messages):
        payload, verdict = telemetry(directory, m * per_message, per_message)
        batch.add(verdict, "t", payload, (link, m + 1), 0, "en")
    records = batch.kafka_records()
    assert [mid for _, mid in batch.acks] == list(range(1, messages + 1))
    assert len(records) == 3 and all(r.key == UNIT_ENTERPRISE.encode() for r in records)
    stamps = [ts - BASE for r in records for ts in orjson.loads(r.value)["ts"]]
    assert stamps == list(range(messages * per_message))
    assert all(len(orjson.loads(r.value)["ts"]) <= MAX_READINGS_PER_RECORD for r in records)
    assert batch.counters.of(UNIT_ENTERPRISE).accepted == messages * per_message


def test_one_answer_per_reason_and_one_dead_letter_per_message(directory: DeviceDirectory) -> None:
    batch = FlushBatch(PlatformTopics.of(Settings()))
    payload, verdict = telemetry(directory, 0, 1, bad=MAX_REPLY_DETAILS + 3)
    batch.add(verdict, "hazmon/v1/E1/RTU01/telemetry", payload, (Connection(), 1), 0, "en")
    dead = [r for r in batch.kafka_records() if r.topic.startswith("hazmon.deadletter")]
    assert len(dead) == 1 and dead[0].value == payload
    listed = orjson.loads(dict(dead[0].headers)["refusals"])
    assert [(r["reason"], r["reading"]) for r in listed] == [("unknown_point", i) for i in range(1, MAX_REPLY_DETAILS + 4)]
    assert len(batch.replies) == 1
    answer = orjson.loads(batch.replies[0].payload)
    assert answer["reason"] == "unknown_point" and answer["detail"].endswith("(+3 more)")
    assert batch.replies[0].topic == "hazmon/v1/E1/RTU01/errors"
    assert dict(batch.counters.of(UNIT_ENTERPRISE).refused) == {"unknown_point": MAX_REPLY_DETAILS + 3}


def test_acks_are_grouped_by_connection_each_in_arrival_order() -> None:
    first, second = Connection(), Connection()
    batch = FlushBatch(PlatformTopics.of(Settings()))
    for ack in [(first, 5), (second, 70), (first, 6), (first, 0), (second, 71), (first, 4)]:
        batch.add_ignored(ack)
    assert batch.acks_by_link() == {first: [5, 6, 0, 4], second: [70, 71]}
    assert list(batch.acks_by_link()) == [first, second]


async def test_a_flushs_pubacks_are_the_bytes_paho_writes_for_each() -> None:
    """``MqttLink.ack_all`` queues the PUBACKs ``Client.ack`` queues one by one, as one packet, and gives
    the acknowledged messages' room back."""
    mids = [1, 258, 65535, 0, 7]
    budget = InFlightBudget(100, 10**6)
    link = MqttLink(aiomqtt.Client("127.0.0.1", protocol=aiomqtt.ProtocolVersion.V5), 10, 100, 10**6, budget)
    for mid in mids:
        link._on_message(link._paho, None, Received("hazmon/v1/E/D/telemetry", b"{}", mid))
    link._on_message(link._paho, None, Received("hazmon/v1/E/D/telemetry", b"{}", 9))
    link.ack_all(mids)
    one_by_one = paho.Client(paho.CallbackAPIVersion.VERSION2, protocol=paho.MQTTv5, manual_ack=True)
    for mid in mids:
        if mid:
            one_by_one.ack(mid, 1)
    assert [p["packet"] for p in link._paho._out_packet] == [b"".join(p["packet"] for p in one_by_one._out_packet)]
    assert (budget.messages, budget.bytes, link.held_bytes) == (1, 2, 2)
