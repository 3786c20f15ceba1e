"""The adapter between the real Mosquitto and the real Kafka: what a device publishes ends up on
the right Kafka topics, refusals on the dead-letter topic and the device's errors topic."""

from __future__ import annotations

import asyncio
import time
from datetime import datetime, timedelta, timezone

import aiomqtt
import orjson
import paho.mqtt.client as paho
import pytest

from hazmon.settings import Settings
from hazmon.wire import TsSource
from ingest.adapter import IngestAdapter
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import RECENT_MS, IngestEnterprise, read_kafka, write_registry

pytestmark = pytest.mark.servers


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def readings_of(records: list) -> list[tuple[str, int, float, int]]:
    rows = []
    for record in records:
        batch = orjson.loads(record.value)
        rows += list(zip(batch["points"], batch["ts"], batch["values"], batch["ts_src"]))
    return rows


def rfc3339(ms: int) -> str:
    """``ms`` as RFC 3339 with milliseconds and the +08:00 offset, as Chinese gateways send it."""
    return datetime.fromtimestamp(ms / 1000, timezone(timedelta(hours=8))).isoformat(timespec="milliseconds")


def headers(record) -> dict[str, str]:  # noqa: ANN001 - aiokafka ConsumerRecord
    return {k: v.decode() for k, v in record.headers}


async def test_telemetry_rules_end_to_end(adapter: IngestAdapter, device: aiomqtt.Client, ingest_settings: Settings,
                                          kafka_topics: PlatformTopics, test_enterprise: IngestEnterprise) -> None:
    ent = test_enterprise.id
    topic = f"hazmon/v1/{ent}/RTU01/telemetry"
    await device.subscribe(f"hazmon/v1/{ent}/RTU01/errors", qos=1)
    t0 = now_ms() - 60_000
    messages = [
        {"v": 1, "ts": t0, "seq": 1, "readings": [{"point": "TK01_LT", "value": 7.42}]},                 # int ms
        {"v": 1, "ts": rfc3339(t0 - 5_000), "seq": 2, "readings": [{"point": "TK01_TT", "value": 31.5}]},
        {"v": 1, "seq": 3, "readings": [{"point": "TK01_LT", "value": 7.5, "ts": t0 + 1}]},             # reading ts
        {"v": 1, "seq": 4, "readings": [{"point": "TK01_TT", "value": 32}]},                            # no ts at all
        {"v": 1, "ts": t0 + 2, "seq": 5, "readings": [                                                  # mixed
            {"point": "TK01_LT", "value": 7.6}, {"point": "TK02_LT", "value": 1}, {"point": "NOPE", "value": 1},
            {"point": "TK01_TT", "value": "NaN"}, {"point": "TK01_TT", "value": 3, "ts": now_ms() + 3_600_000}]},
        {"v": 1, "ts": t0 + 3, "seq": 5, "readings": [{"point": "TK01_LT", "value": 99}]},              # duplicate
        {"v": 1, "ts": t0 + 4, "seq": 8, "readings": [{"point": "TK01_LT", "value": 7.7}]},             # gap of 2
    ]
    for body in messages:
        await device.publish(topic, orjson.dumps(body), qos=1)
    await device.publish(topic, b'{"v":1,"readings":[{"point":"TK01_LT","value":NaN}]}', qos=1)    # bad_json
    await device.publish(topic, b'{"v":2,"readings":[]}', qos=1)                                  # bad_version
    await device.publish(topic, b'{"v":1,"readings":{}}', qos=1)                                  # bad_shape
    await device.publish(topic, b'{"v":1,"readings":[],"p":"' + b"x" * 262144 + b'"}', qos=1)     # too_large
    # a device not in the registry never gets here: the broker's ACL refuses it (tests/foundation/
    # test_mqtt_server.py); unknown_device is the parser's (tests/ingest/test_parser.py)

    accepted = readings_of(await read_kafka(ingest_settings, kafka_topics.readings,
                                            lambda r: len(readings_of(r)) >= 6))
    assert sorted((p, ts, v) for p, ts, v, _ in accepted if ts != accepted[3][1]) == sorted([
        ("TK01_LT", t0, 7.42), ("TK01_TT", t0 - 5_000, 31.5), ("TK01_LT", t0 + 1, 7.5),
        ("TK01_LT", t0 + 2, 7.6), ("TK01_LT", t0 + 4, 7.7)])
    platform_stamped = [row for row in accepted if row[3] == TsSource.PLATFORM]
    assert [(p, v) for p, _, v, _ in platform_stamped] == [("TK01_TT", 32.0)]
    assert abs(platform_stamped[0][1] - now_ms()) < 60_000
    assert 99 not in [v for _, _, v, _ in accepted]  # the duplicate was dropped

    dead = await read_kafka(ingest_settings, kafka_topics.deadletter, lambda r: len(r) >= 5)
    got = sorted((headers(r)["reason"], headers(r)["device"]) for r in dead)
    assert got == sorted([("unknown_point,bad_value,bad_ts", "RTU01"), ("bad_json", "RTU01"),
                          ("bad_version", "RTU01"), ("bad_shape", "RTU01"), ("too_large", "RTU01")])  # one per message
    mixed = next(r for r in dead if headers(r)["reason"].startswith("unknown_point"))
    assert orjson.loads(mixed.value) == messages[4]  # the original bytes
    assert [(r["reason"], r["reading"]) for r in orjson.loads(headers(mixed)["refusals"])] == [
        ("unknown_point", 1), ("unknown_point", 2), ("bad_value", 3), ("bad_ts", 4)]
    assert headers(mixed)["mqtt_topic"] == topic and int(headers(mixed)["recv_ms"]) > t0

    answers = []
    async with asyncio.timeout(20):
        async for message in device.messages:
            answers.append(orjson.loads(message.payload))
            if {a["reason"] for a in answers} >= {"unknown_point", "bad_value", "bad_ts", "bad_json", "bad_version",
                                                   "bad_shape", "too_large"}:
                break
    assert all(a["v"] == 1 and a["topic"] == topic and a["detail"] for a in answers)
    assert sum(1 for a in answers if a["reason"] == "unknown_point") == 1  # both points in one answer

    stats = await read_kafka(ingest_settings, kafka_topics.ingest_stats,
                             lambda r: sum(orjson.loads(x.value)["accepted"] for x in r) >= 6)
    totals = {"accepted": 0, "duplicates": 0, "gaps": 0}
    refused: dict[str, int] = {}
    for record in stats:
        body = orjson.loads(record.value)
        assert body["enterprise"] == ent and record.key == ent.encode()
        for key in totals:
            totals[key] += body[key]
        for reason, n in body["refused"].items():
            refused[reason] = refused.get(reason, 0) + n
    assert totals == {"accepted": 6, "duplicates": 1, "gaps": 2}
    assert refused == {"unknown_point": 2, "bad_value": 1, "bad_ts": 1, "bad_json": 1, "bad_version": 1,
                       "bad_shape": 1, "too_large": 1}


def gateway_that_dies(settings: Settings, enterprise: IngestEnterprise, client_id: str,
                      messages: list[tuple[str, bytes]]) -> None:
    """A fire-alarm gateway (paho): sets its will, publishes, then loses its connection without DISCONNECT."""
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=client_id, protocol=paho.MQTTv5)
    client.username_pw_set(enterprise.id, enterprise.password)
    client.will_set(f"hazmon/v1/{enterprise.id}/FAC1/status", b'{"v":1,"online":false}', qos=1, retain=True)
    client.connect(settings.mqtt_host, settings.mqtt_port, keepalive=5)
    client.loop_start()
    for topic, payload in messages:
        client.publish(topic, payload, qos=1, retain=topic.endswith("/status")).wait_for_publish(10)
    client.loop_stop()
    client.socket().close()


async def test_events_and_status_including_the_will(
        adapter: IngestAdapter, ingest_settings: Settings, kafka_topics: PlatformTopics,
        test_enterprise: IngestEnterprise, unique: str) -> None:
    ent = test_enterprise.id
    base = f"hazmon/v1/{ent}/FAC1"
    await asyncio.to_thread(gateway_that_dies, ingest_settings, test_enterprise, f"fac-{unique}", [
        (f"{base}/status", b'{"v":1,"online":true}'),
        (f"{base}/event", orjson.dumps({"v": 1, "ts": now_ms(), "point": "FAC1_Z07", "event": "fire",
                                        "text": "3F 东走廊烟感"})),
        (f"{base}/event", b'{"v":1,"point":"FAC1_Z07","event":"smoke"}'),
        (f"{base}/event", b'{"v":1,"point":"TK01_LT","event":"fault"}')])
    events = await read_kafka(ingest_settings, kafka_topics.events, lambda r: len(r) >= 1)
    assert [(e["point"], e["event"], e["text"]) for e in (orjson.loads(r.value) for r in events)] == \
        [("FAC1_Z07", "fire", "3F 东走廊烟感")]
    statuses = await read_kafka(ingest_settings, kafka_topics.device_status, lambda r: len(r) >= 2)
    assert [(s["device"], s["online"]) for s in (orjson.loads(r.value) for r in statuses)] == \
        [("FAC1", True), ("FAC1", False)]
    dead = await read_kafka(ingest_settings, kafka_topics.deadletter, lambda r: len(r) >= 2)
    assert sorted(headers(r)["reason"] for r in dead) == ["bad_event", "unknown_point"]
    async with aiomqtt.Client(ingest_settings.mqtt_host, ingest_settings.mqtt_port, username=ent,
                              password=test_enterprise.password, protocol=aiomqtt.ProtocolVersion.V5) as cleaner:
        await cleaner.publish(f"{base}/status", b"", qos=1, retain=True)  # clear the retained will


async def test_registry_change_is_picked_up_without_restart(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, unique: str, tmp_path) -> None:  # noqa: ANN001
    from tests.ingest.conftest import ingest_settings_for

    registry_dir = tmp_path / "registry"
    write_registry(registry_dir, test_enterprise.id)
    live = IngestEnterprise(test_enterprise.id, registry_dir, test_enterprise.password)
    settings = ingest_settings_for(mosquitto, live, unique)
    topics = PlatformTopics.of(settings)
    stop = asyncio.Event()
    running = IngestAdapter(settings)
    task = asyncio.create_task(running.run(stop))
    try:
        await asyncio.wait_for(running.connected.wait(), 30)
        await asyncio.sleep(0.3)
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=live.id, password=live.password,
                                  protocol=aiomqtt.ProtocolVersion.V5) as dev:
            body = orjson.dumps({"v": 1, "readings": [{"point": "NEW_PT", "value": 1.0}]})
            await dev.publish(f"hazmon/v1/{live.id}/RTU01/telemetry", body, qos=1)
            await read_kafka(settings, topics.deadletter, lambda r: len(r) >= 1)
            (registry_dir / f"{live.id}.yaml").write_text("enterprise: [broken")  # invalid: keep the old one
            await asyncio.sleep(1.5)
            await dev.publish(f"hazmon/v1/{live.id}/RTU01/telemetry",
                              orjson.dumps({"v": 1, "readings": [{"point": "TK01_LT", "value": 2.0}]}), qos=1)
            write_registry(registry_dir, live.id, "  - {id: NEW_PT, site: TF01, device: RTU01, type: pressure, "
                                                  "range: [0, 2], high: 1, high_high: 1.5}\n")
            await asyncio.sleep(1.5)
            await dev.publish(f"hazmon/v1/{live.id}/RTU01/telemetry", body, qos=1)
        rows = readings_of(await read_kafka(settings, topics.readings, lambda r: len(readings_of(r)) >= 2))
        assert [(p, v) for p, _, v, _ in rows] == [("TK01_LT", 2.0), ("NEW_PT", 1.0)]
        dead = await read_kafka(settings, topics.deadletter, lambda r: len(r) >= 2, timeout_s=3)
        assert [headers(r)["reason"] for r in dead] == ["unknown_point"]
    finally:
        stop.set()
        await asyncio.wait_for(task, 60)


async def test_two_adapters_of_one_group_split_the_load(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, device: aiomqtt.Client,
        unique: str) -> None:
    from tests.ingest.conftest import ingest_settings_for

    base = ingest_settings_for(mosquitto, test_enterprise, unique)
    members = [IngestAdapter(base.model_copy(update={"ingest_client_id": f"{base.ingest_client_id}-{n}"}))
               for n in range(2)]
    stop = asyncio.Event()
    tasks = [asyncio.create_task(member.run(stop)) for member in members]
    try:
        for member in members:
            await asyncio.wait_for(member.connected.wait(), 30)
        await asyncio.sleep(0.5)
        for n in range(200):
            body = {"v": 1, "ts": RECENT_MS + n, "readings": [{"point": "TK01_LT", "value": float(n)}]}
            await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
        records = await read_kafka(base, PlatformTopics.of(base).readings,
                                   lambda r: len(readings_of(r)) >= 200)
    finally:
        stop.set()
        await asyncio.wait_for(asyncio.gather(*tasks), 60)
    assert sorted(ts for _, ts, _, _ in readings_of(records)) == [RECENT_MS + n for n in range(200)]
    taken = [member.messages_taken for member in members]
    assert sum(taken) == 200 and min(taken) > 0, taken


async def test_a_qos0_message_does_not_cost_the_connection(adapter: IngestAdapter, device: aiomqtt.Client,
                                                           ingest_settings: Settings, kafka_topics: PlatformTopics,
                                                           test_enterprise: IngestEnterprise,
                                                           caplog: pytest.LogCaptureFixture) -> None:
    """A gateway publishing at QoS 0 (against §2) is delivered at QoS 0, packet identifier 0: there is
    nothing to acknowledge, and a PUBACK 0 would make Mosquitto close the adapter's connection."""
    topic = f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry"
    for qos, n in ((0, 1), (1, 2)):
        body = {"v": 1, "ts": RECENT_MS + n, "readings": [{"point": "TK01_LT", "value": float(n)}]}
        await device.publish(topic, orjson.dumps(body), qos=qos)
    rows = readings_of(await read_kafka(ingest_settings, kafka_topics.readings, lambda r: len(readings_of(r)) >= 2))
    await asyncio.sleep(0.5)
    assert sorted(v for _, _, v, _ in rows) == [1.0, 2.0]
    assert "mqtt connection lost" not in caplog.text
