"""What one enterprise's account can do to the adapter with what it is allowed to publish (issue
#14): floods, huge refusals, counters that jump, old timestamps, long texts, forged log lines.
Each on the real Mosquitto and Kafka; none may cost another enterprise or device its data."""

from __future__ import annotations

import asyncio
import logging
import time

import aiomqtt
import orjson
import pytest

from hazmon.logs import KeyValueFormatter
from hazmon.registry import RegistryError, load_registry
from hazmon.settings import Settings
from ingest.adapter import IngestAdapter
from hazmon.topics import PlatformTopics
from tests.ingest.conftest import IngestEnterprise, ingest_settings_for, read_kafka, running_adapter, write_registry
from tests.security.conftest import (
    ATTACKER, T0, Broker, enterprise_client, private_adapter, publish_victim, readings)

pytestmark = pytest.mark.servers
DAY_MS = 86_400_000


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def header(record, name: str) -> str:  # noqa: ANN001 - aiokafka ConsumerRecord
    return dict(record.headers)[name].decode()


async def stats_of(settings: Settings, topic: str, enterprise: str, done: callable) -> dict:
    """The enterprise's counters summed over the stats records, once ``done(totals)``."""
    def totals(records: list) -> dict:
        summed: dict = {"accepted": 0, "gaps": 0, "refused": {}}
        for body in (orjson.loads(r.value) for r in records):
            if body["enterprise"] == enterprise:
                summed["accepted"] += body["accepted"]
                summed["gaps"] += body["gaps"]
                for reason, n in body["refused"].items():
                    summed["refused"][reason] = summed["refused"].get(reason, 0) + n
        return summed
    return totals(await read_kafka(settings, topic, lambda r: done(totals(r)), timeout_s=15))


async def test_one_dead_letter_record_lists_every_refusal(
        adapter: IngestAdapter, device: aiomqtt.Client, ingest_settings: Settings, kafka_topics: PlatformTopics,
        test_enterprise: IngestEnterprise) -> None:
    """1 000 bad readings in one 250 KB message wrote 1 000 copies of it (250 MB) to Kafka."""
    bad = [{"point": f"NOPE{i:04d}", "value": 1.0, "pad": "x" * 200} for i in range(999)]
    bad.append({"point": "TK01_LT", "value": "high"})
    payload = orjson.dumps({"v": 1, "readings": bad})
    assert len(payload) > 200_000
    await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", payload, qos=1)
    await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", b"{", qos=1)  # a second, whole refusal
    dead = await read_kafka(ingest_settings, kafka_topics.deadletter, lambda r: len(r) >= 3, timeout_s=8)
    assert len(dead) == 2, f"{len(dead)} dead-letter records for 2 refused messages"
    big = dead[0]
    assert big.value == payload and header(big, "reason") == "unknown_point,bad_value"
    listed = orjson.loads(header(big, "refusals"))
    assert [(r["reason"], r["reading"]) for r in listed] == \
        [("unknown_point", i) for i in range(999)] + [("bad_value", 999)]
    assert header(dead[1], "reason") == "bad_json" and orjson.loads(header(dead[1], "refusals"))[0]["reading"] is None
    stats = await stats_of(ingest_settings, kafka_topics.ingest_stats, test_enterprise.id,
                           lambda s: sum(s["refused"].values()) >= 1001)
    assert stats["refused"] == {"unknown_point": 999, "bad_value": 1, "bad_json": 1}  # counted per refusal still


async def test_readings_older_than_the_limit_are_refused(
        adapter: IngestAdapter, device: aiomqtt.Client, ingest_settings: Settings, kafka_topics: PlatformTopics,
        test_enterprise: IngestEnterprise) -> None:
    """§6 rev. 1.1: older than 7 days (a setting) is bad_ts."""
    now = now_ms()
    max_age_ms = ingest_settings.ingest_max_age_s * 1000
    body = {"v": 1, "readings": [{"point": "TK01_LT", "value": 1.0, "ts": now - max_age_ms + DAY_MS},
                                 {"point": "TK01_LT", "value": 2.0, "ts": now - max_age_ms - DAY_MS}]}
    await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", orjson.dumps(body), qos=1)
    await device.publish(f"hazmon/v1/{test_enterprise.id}/FAC1/event", orjson.dumps(
        {"v": 1, "ts": now - max_age_ms - DAY_MS, "point": "FAC1_Z07", "event": "fault"}), qos=1)
    got = readings(await read_kafka(ingest_settings, kafka_topics.readings, lambda r: len(readings(r)) >= 1))
    assert got == [now - max_age_ms + DAY_MS]
    dead = await read_kafka(ingest_settings, kafka_topics.deadletter, lambda r: len(r) >= 2)
    assert sorted(header(r, "reason") for r in dead) == ["bad_ts", "bad_ts"]


async def test_event_text_is_capped(
        adapter: IngestAdapter, device: aiomqtt.Client, ingest_settings: Settings, kafka_topics: PlatformTopics,
        test_enterprise: IngestEnterprise) -> None:
    """A fire alarm with a 200 000-character text is still a fire alarm; its text is cut."""
    body = {"v": 1, "ts": now_ms(), "point": "FAC1_Z07", "event": "fire", "text": "烟" * 80_000}
    await device.publish(f"hazmon/v1/{test_enterprise.id}/FAC1/event", orjson.dumps(body), qos=1)
    events = await read_kafka(ingest_settings, kafka_topics.events, lambda r: len(r) >= 1)
    event = orjson.loads(events[0].value)
    assert event["event"] == "fire" and len(event["text"]) <= ingest_settings.ingest_event_text_max


async def test_a_seq_jump_or_overflow_is_a_reset(
        adapter: IngestAdapter, device: aiomqtt.Client, ingest_settings: Settings, kafka_topics: PlatformTopics,
        test_enterprise: IngestEnterprise) -> None:
    """A gap of 2^64 - 3 messages went to InfluxDB as an int64 field it refuses: the writer was stuck."""
    topic = f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry"
    for n, seq in enumerate((1, 2**64 - 1, 5, 10**15, 10**15 + 3)):
        body = {"v": 1, "seq": seq, "readings": [{"point": "TK01_LT", "value": 1.0, "ts": T0 + n}]}
        await device.publish(topic, orjson.dumps(body), qos=1)
    got = readings(await read_kafka(ingest_settings, kafka_topics.readings, lambda r: len(readings(r)) >= 5))
    assert sorted(got) == [T0 + n for n in range(5)]  # every message kept
    stats = await stats_of(ingest_settings, kafka_topics.ingest_stats, test_enterprise.id, lambda s: s["accepted"] >= 5)
    assert stats["gaps"] == 2  # only 10**15 + 1 and + 2 are missing; the jumps started the counter over


async def test_log_lines_escape_device_data(
        adapter: IngestAdapter, device: aiomqtt.Client, ingest_settings: Settings, kafka_topics: PlatformTopics,
        test_enterprise: IngestEnterprise, caplog: pytest.LogCaptureFixture) -> None:
    """A point name with a newline forged a log line of its own. (Mosquitto itself refuses control
    characters in topics, so enterprise and device ids cannot carry one.)"""
    caplog.set_level(logging.INFO)
    forged = "\n2026-12-06T00:00:00.000 ERROR [1] alerting: FORGED"
    await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry",
                         orjson.dumps({"v": 1, "readings": [{"point": f"P{forged}", "value": 1}]}), qos=1)
    await read_kafka(ingest_settings, kafka_topics.deadletter, lambda r: len(r) >= 1)
    await asyncio.sleep(0.2)
    lines = [KeyValueFormatter().format(record) for record in caplog.records if record.name.startswith("ingest")]
    assert any("FORGED" in line for line in lines)  # the refusal was logged ...
    assert all("\n" not in line for line in lines), lines  # ... on one line


async def test_a_flood_of_bad_messages_is_not_a_flood_of_log_lines(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, device: aiomqtt.Client, unique: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """bench/abuse.py: 29 668 `refused` lines in 30 s from one enterprise's bad messages."""
    caplog.set_level(logging.INFO)
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_enterprise_max_answers_s=2.0,
                                   ingest_rate_burst_s=1.0)
    async with running_adapter(settings):
        for _ in range(100):
            await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", b"{", qos=1)
        await read_kafka(settings, PlatformTopics.of(settings).deadletter, lambda r: len(r) >= 100)
    refused = [r for r in caplog.records if r.getMessage() == "refused"]
    assert 1 <= len(refused) <= 10, len(refused)


async def test_lost_answers_are_one_log_line_per_period(
        mosquitto: Settings, kafka: str, test_enterprise: IngestEnterprise, device: aiomqtt.Client, unique: str,
        caplog: pytest.LogCaptureFixture) -> None:
    """bench/abuse.py: 4 041 'errors-topic answer failed' lines in 30 s while the adapter's reading
    was paused. With no room for pending answers, every answer of 100 bad messages is lost."""
    caplog.set_level(logging.INFO)
    settings = ingest_settings_for(mosquitto, test_enterprise, unique, ingest_max_error_replies=0)
    async with running_adapter(settings):
        for _ in range(100):
            await device.publish(f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry", b"{", qos=1)
        await read_kafka(settings, PlatformTopics.of(settings).deadletter, lambda r: len(r) >= 100)
        await asyncio.sleep(2 * settings.ingest_stats_interval_s)
    warnings = [r for r in caplog.records if r.name == "ingest.adapter" and r.levelno >= logging.WARNING]
    assert 1 <= len(warnings) <= 3, [r.getMessage() for r in warnings]
    assert sum(r.answers for r in warnings) == 100


def test_the_registry_refuses_the_platforms_account(tmp_path, settings: Settings) -> None:  # noqa: ANN001
    """An enterprise registered under the platform's MQTT username would get the platform's broker rights."""
    write_registry(tmp_path, settings.mqtt_platform_user)
    with pytest.raises(RegistryError) as refused:
        load_registry(tmp_path)
    assert "enterprise.id" in str(refused.value) and settings.mqtt_platform_user in str(refused.value)


async def _flood(broker: Broker, enterprise: str, device: str, messages: int, answers: list[dict]) -> None:
    async with enterprise_client(broker, enterprise, f"flood-{enterprise}-{device}") as flooder:
        await flooder.subscribe(f"hazmon/v1/{enterprise}/{device}/errors", qos=1)
        listening = asyncio.create_task(_answers(flooder, answers))
        for n in range(messages):
            body = {"v": 1, "readings": [{"point": "TK01_LT", "value": 1.0, "ts": T0 + 1_000_000 + n}]}
            await flooder.publish(f"hazmon/v1/{enterprise}/{device}/telemetry", orjson.dumps(body), qos=1)
        await asyncio.sleep(1.0)
        listening.cancel()


async def _answers(client: aiomqtt.Client, answers: list[dict]) -> None:
    async for message in client.messages:
        answers.append(orjson.loads(message.payload))


async def test_an_enterprise_over_its_rate_is_not_read_and_others_are_not_held_up(
        broker: Broker, platform_settings: Settings) -> None:
    """With a session of its own, an enterprise over its rate is simply not read for a while: its
    flood waits in its own broker queue (nothing refused, nothing answered), the victim's does not."""
    settings = platform_settings.model_copy(update={"ingest_enterprise_max_msgs_s": 50.0, "ingest_rate_burst_s": 1.0})
    topics = PlatformTopics.of(settings)
    answers: list[dict] = []
    async with private_adapter(settings):
        started = time.monotonic()
        await asyncio.gather(_flood(broker, ATTACKER, "RTU01", 1500, answers),
                             publish_victim(broker, 40, 0, pause_s=0.05))
        got = readings(await read_kafka(settings, topics.readings,
                                        lambda r: sum(ts < T0 + 1_000_000 for ts in readings(r)) >= 40, timeout_s=6))
        elapsed = time.monotonic() - started
    victim = [ts for ts in got if ts < T0 + 1_000_000]
    assert sorted(victim) == [T0 + n for n in range(40)]
    flooded = len(got) - len(victim)
    assert flooded <= 50 * (elapsed + 1.0) + 60, (flooded, elapsed)  # its rate and its burst, a few in flight
    assert not answers, answers[:3]


async def test_an_enterprise_over_its_rate_in_a_shared_session_is_refused(
        broker: Broker, platform_settings: Settings) -> None:
    """Enterprises sharing a broker session (``ingest_session_shards``): pausing it would hold up the
    others, so what is over an enterprise's rate is acknowledged, answered and refused."""
    settings = platform_settings.model_copy(update={"ingest_enterprise_max_msgs_s": 50.0, "ingest_rate_burst_s": 1.0,
                                                    "ingest_session_shards": 1})
    topics = PlatformTopics.of(settings)
    answers: list[dict] = []
    async with private_adapter(settings):
        started = time.monotonic()
        await asyncio.gather(_flood(broker, ATTACKER, "RTU01", 1500, answers),
                             publish_victim(broker, 40, 0, pause_s=0.05))
        elapsed = time.monotonic() - started
        got = readings(await read_kafka(settings, topics.readings, lambda r: len(readings(r)) >= 40 + 1500,
                                        timeout_s=6))
        stats = await stats_of(settings, topics.ingest_stats, ATTACKER, lambda s: s["refused"].get("rate_limited", 0) > 0)
    victim = [ts for ts in got if ts < T0 + 1_000_000]
    assert sorted(victim) == [T0 + n for n in range(40)]
    flooded = len(got) - len(victim)
    assert flooded < 600 and stats["refused"]["rate_limited"] == 1500 - flooded, (flooded, stats)
    answers_s = settings.ingest_enterprise_max_answers_s
    assert answers and {a["reason"] for a in answers} == {"rate_limited"}, answers
    assert len(answers) <= answers_s * (elapsed + settings.ingest_rate_burst_s), (len(answers), elapsed)


async def test_a_device_over_its_rate_does_not_hold_up_its_neighbours(
        broker: Broker, platform_settings: Settings) -> None:
    settings = platform_settings.model_copy(update={"ingest_device_max_msgs_s": 20.0, "ingest_rate_burst_s": 1.0})
    topics = PlatformTopics.of(settings)
    answers: list[dict] = []

    async def neighbour() -> None:
        async with enterprise_client(broker, ATTACKER, "neighbour-rtu02") as gateway:
            for n in range(20):
                body = {"v": 1, "readings": [{"point": "TK02_LT", "value": 1.0, "ts": T0 + n}]}
                await gateway.publish(f"hazmon/v1/{ATTACKER}/RTU02/telemetry", orjson.dumps(body), qos=1)
                await asyncio.sleep(0.05)

    async with private_adapter(settings):
        await asyncio.gather(_flood(broker, ATTACKER, "RTU01", 800, answers), neighbour())
        got = readings(await read_kafka(settings, topics.readings, lambda r: len(readings(r)) >= 820, timeout_s=6))
    assert sorted(ts for ts in got if ts < T0 + 1_000_000) == [T0 + n for n in range(20)]
    assert len(got) - 20 < 300
    assert answers and {a["reason"] for a in answers} == {"rate_limited"}


async def test_an_enterprises_large_bad_messages_are_taken_at_its_byte_rate_only(
        broker: Broker, platform_settings: Settings) -> None:
    """250 KB messages of 1 000 bad readings each cost the adapter ~4 ms of CPU apiece (parsed,
    1 000 refusals, one dead-letter record of the whole message): at the former default of 16 MiB/s
    one enterprise could keep a third of a core busy with them (bench/abuse.py). With the default
    byte rate (burst cut to 1 s) the flood is taken at that rate only; the victim's readings pass."""
    settings = platform_settings.model_copy(update={"ingest_rate_burst_s": 1.0})
    topics = PlatformTopics.of(settings)
    bad = orjson.dumps({"v": 1, "readings": [{"point": f"NOPE{i:04d}", "value": 1.0, "pad": "x" * 200}
                                             for i in range(1000)]})
    flood = 60

    async def attack() -> None:
        async with enterprise_client(broker, ATTACKER, "flood-bad-bytes") as flooder:
            for _ in range(flood):
                await flooder.publish(f"hazmon/v1/{ATTACKER}/RTU01/telemetry", bad, qos=1)

    async with private_adapter(settings):
        started = time.monotonic()
        await asyncio.gather(attack(), publish_victim(broker, 40, 0, pause_s=0.05))
        got = readings(await read_kafka(settings, topics.readings, lambda r: len(readings(r)) >= 40, timeout_s=6))
        dead = await read_kafka(settings, topics.deadletter, lambda r: len(r) >= flood, timeout_s=3)
        elapsed = time.monotonic() - started
    assert sorted(got) == [T0 + n for n in range(40)]
    taken = sum(header(record, "enterprise") == ATTACKER for record in dead)
    allowed = settings.ingest_enterprise_max_bytes_s * (elapsed + 1.0) / len(bad)
    assert taken <= allowed + 4 and taken < flood, (taken, allowed, elapsed)  # its rate, its burst, a few in flight
