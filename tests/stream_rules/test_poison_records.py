"""A record the rules cannot evaluate is set aside; it never stops the alarms of anyone else (issue 20).

Before: the worker decoded and evaluated each batch in one piece, so a record that was not JSON, had a
missing key, columns of different lengths or a wrong type, or one the engine raised on, ended the
worker; ``hazmon rules worker`` started a fresh one from the committed state, which read the same
record and ended again: no alarm of any enterprise of any partition after it. Now such a record is
dead-lettered in its batch's transaction, logged and counted, and the batch is evaluated without it.
"""

from __future__ import annotations

import asyncio
import copy
from pathlib import Path
from typing import Any

import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from hazmon.registry import Registry, load_registry
from hazmon.settings import Settings
from stream_rules.admission import Unfit, admit
from stream_rules.engine import RuleEngine
from stream_rules.runtime import TableRuntime
from stream_rules.state import EnterpriseState
from tests.stream_rules.county import ENT, REGISTRY_YAML, T0, controller_event, record, write_registry
from tests.stream_rules.worker_process import RulesWorker

OTHER = "TESTENT02"   # a second enterprise of the same registry: its alarms must not depend on ENT's records
TOPIC = "hazmon.readings.v1"


def _two_enterprises(directory: Path) -> Registry:
    write_registry(directory)
    (directory / f"{OTHER}.yaml").write_text(REGISTRY_YAML.replace(ENT, OTHER), encoding="utf-8")
    return load_registry(directory)


def _of(enterprise: str, reading: dict) -> dict:
    return {**reading, "enterprise": enterprise}


def _tank(enterprise: str, step: int, level: float) -> dict:
    """RTU1 of ``enterprise`` at step ``step`` (10 s apart) with LT at ``level`` (high 10, high-high 15)."""
    return _of(enterprise, record("RTU1", T0 + step * 10_000, {"LT": level, "G1": 2.0, "G2": 2.0}))


def _overflowing_quality(enterprise: str, step: int) -> dict:
    """The wire shape, with a quality of 300: the engine raises (OverflowError, numpy's int8)."""
    bad = _tank(enterprise, step, 16.0)
    bad["q"] = [300, 0, 0]
    return bad


# malformed shapes a buggy or older producer could write; each is refused before the engine
MALFORMED: dict[str, bytes] = {
    "not-json": b'{"v": 1, "enterprise": "TESTENT01", "device": "RTU1\x1b[2J',   # cut short, a control character in it
    "json-array": b"[1, 2, 3]",
    "json-string": b'"TESTENT01"',
    "empty": b"",
    "missing-points": orjson.dumps({k: v for k, v in _tank(ENT, 1, 16.0).items() if k != "points"}),
    "columns-of-different-lengths": orjson.dumps({**_tank(ENT, 1, 16.0), "ts": [T0, T0]}),
    "values-as-strings": orjson.dumps({**_tank(ENT, 1, 16.0), "values": ["16", "2", "2"]}),
    "recv-ms-null": orjson.dumps({**_tank(ENT, 1, 16.0), "recv_ms": None}),
    "enterprise-a-list": orjson.dumps({**_tank(ENT, 1, 16.0), "enterprise": [ENT]}),
    "point-not-a-string": orjson.dumps({**_tank(ENT, 1, 16.0), "points": [["LT"], "G1", "G2"]}),
    "quality-a-bool": orjson.dumps({**_tank(ENT, 1, 16.0), "q": [True, 0, 0]}),
}


@pytest.mark.parametrize("raw", MALFORMED.values(), ids=MALFORMED.keys())
def test_a_malformed_reading_batch_is_unfit(raw: bytes) -> None:
    with pytest.raises(Unfit) as refused:
        admit("readings", raw, 0, lambda enterprise: 0)
    assert refused.value.reason in ("undecodable", "malformed")
    assert "\x1b" not in refused.value.detail and len(refused.value.detail) < 400


@pytest.mark.parametrize(("kind", "record", "reason"), [
    ("events", {**controller_event("fire", 0), "event": "explosion"}, "malformed"),
    ("events", {**controller_event("fire", 0), "text": None}, "malformed"),
    ("events", {k: v for k, v in controller_event("fire", 0).items() if k != "point"}, "malformed"),
    ("statuses", {"v": 1, "enterprise": ENT, "device": "RTU1", "online": "no", "ts": T0, "recv_ms": T0}, "malformed"),
    ("statuses", {"v": 1, "enterprise": ENT, "device": "RTU1", "online": False, "ts": T0, "recv_ms": T0,
                  "ts_src": "platform"}, "malformed"),   # a NotRequired field present with a wrong type
    ("readings", _tank(ENT, 1, 16.0), "wrong_partition"),   # keyed (or partitioned) by something else
], ids=["event-name", "event-text-null", "event-no-point", "status-online-a-string", "status-ts-src", "wrong-partition"])
def test_other_unfit_records(kind: Any, record: dict, reason: str) -> None:
    with pytest.raises(Unfit) as refused:
        admit(kind, orjson.dumps(record), 0, lambda enterprise: 1)
    assert refused.value.reason == reason


def test_the_wire_records_of_ingest_are_admitted() -> None:
    status = {"v": 1, "enterprise": ENT, "device": "RTU1", "online": False, "ts": T0, "recv_ms": T0}
    for kind, fit in (("readings", _tank(ENT, 1, 16.0)), ("events", controller_event("fire", 0)),
                      ("statuses", status), ("statuses", {**status, "ts_src": 2, "newer_field": "kept"})):
        assert admit(kind, orjson.dumps(fit), 3, lambda enterprise: 3) == fit   # type: ignore[arg-type]


def _rule_state(engine: RuleEngine, enterprise: str) -> bytes:
    """The enterprise's state without the offsets applied (the runtime keeps them, the bare engine not)."""
    state = EnterpriseState.from_bytes(engine.dump(enterprise))
    state.applied = {}
    return state.to_bytes()


@pytest.mark.parametrize("bad_first", [True, False], ids=["bad-enterprise-first", "bad-enterprise-last"])
def test_a_record_the_engine_fails_on_is_set_aside_and_the_batch_evaluated_without_it(
        tmp_path: Path, bad_first: bool) -> None:
    """Whether the engine met the bad record before or after the other enterprise's (whose state it had
    then changed and whose transitions it had lost), the result is the engine's on the batch without it:
    the same transitions, and the same state byte for byte (nothing half-updated)."""
    registry = _two_enterprises(tmp_path / "registry")
    warm = [_tank(ENT, 0, 5.0), _tank(OTHER, 0, 5.0)]
    alarming = [_tank(e, step, 16.0) for step in range(1, 6) for e in (OTHER, ENT)]
    bad = _overflowing_quality(ENT, 2)
    batch = [bad, *alarming] if bad_first else [*alarming, bad]
    offsets = list(range(10, 10 + len(batch)))

    rules = TableRuntime(RuleEngine(registry, clock=lambda: 0), {})
    rules.process("readings", TOPIC, [0, 1], warm)
    set_aside: list[tuple[int, Exception]] = []
    out = rules.process("readings", TOPIC, offsets, batch, lambda position, error: set_aside.append((position, error)))

    never_saw_it = RuleEngine(registry, clock=lambda: 0)
    never_saw_it.process(readings=warm)
    expected = never_saw_it.process(readings=[r for r in batch if r is not bad])
    assert [(position, type(error)) for position, error in set_aside] == [(batch.index(bad), OverflowError)]
    assert out == expected
    assert {t["enterprise"] for t in out} == {ENT, OTHER}
    for enterprise in (ENT, OTHER):
        assert _rule_state(rules.engine, enterprise) == _rule_state(never_saw_it, enterprise)
    assert rules.engine.state(ENT).applied[TOPIC] == offsets[-1]   # the bad record counts as done: dead-lettered


def test_several_records_the_engine_fails_on_are_each_set_aside(tmp_path: Path) -> None:
    """Two bad events (a timestamp 584 million years ahead: the engine cannot say when) among good ones."""
    registry = _two_enterprises(tmp_path / "registry")
    fire, later = controller_event("fire", 0), controller_event("fire", 10)
    far = {**controller_event("fault", 5), "ts": 2**64 - 1}
    batch = [fire, copy.deepcopy(far), _of(OTHER, fire), far, later]
    rules = TableRuntime(RuleEngine(registry, clock=lambda: 0), {})
    set_aside: list[int] = []
    out = rules.process("events", "hazmon.events.v1", list(range(len(batch))), batch,
                        lambda position, error: set_aside.append(position))
    expected = RuleEngine(registry, clock=lambda: 0).process(events=[fire, _of(OTHER, fire), later])
    assert sorted(set_aside) == [1, 3]
    assert out == expected


def test_without_set_aside_the_engine_error_goes_on(tmp_path: Path) -> None:
    rules = TableRuntime(RuleEngine(_two_enterprises(tmp_path / "registry"), clock=lambda: 0), {})
    with pytest.raises(OverflowError):
        rules.process("readings", TOPIC, [0], [_overflowing_quality(ENT, 1)])


# the real stack: a rules worker process, Kafka, poison records among good ones on the readings topic

def _limit_key(transitions: list[dict]) -> list[tuple[str, str, str, str | None]]:
    return sorted((t["enterprise"], t["id"], t["transition"], t["level"]) for t in transitions if t["rule"] == "limit")


async def _committed(settings: Settings, topic: str, at_least: int, timeout_s: float) -> list:
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=None,
                                auto_offset_reset="earliest", enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    got: list = []
    try:
        async with asyncio.timeout(timeout_s):
            while len(got) < at_least:
                batches = await consumer.getmany(timeout_ms=500)
                got += [m for msgs in batches.values() for m in msgs]
        await asyncio.sleep(2)
        batches = await consumer.getmany(timeout_ms=500)
        return got + [m for msgs in batches.values() for m in msgs]
    except TimeoutError:
        return got
    finally:
        await consumer.stop()


@pytest.mark.servers
async def test_poison_readings_do_not_stop_the_alarms(kafka: str, settings: Settings, unique: str,
                                                      tmp_path: Path) -> None:
    """ENT's readings carry every malformed shape above and one the engine fails on, between good ones;
    OTHER's, in the same batches, are all good. Both enterprises' limit alarms come, each once, as the
    engine gives them without the bad records; each bad record is on the dead-letter topic once, logged
    once (no raw control character), and counted in the worker's pipeline metrics.
    Before: the worker ended on the first bad record, was restarted, ended again: no alarm at all."""
    registry = _two_enterprises(tmp_path / "registry")
    worker = RulesWorker(settings, unique, tmp_path)
    worker.env.update({"HAZMON_REGISTRY_DIR": str(tmp_path / "registry"), "HAZMON_RULES_METRICS_S": "1"})
    good = [_tank(e, step, 5.0 if step < 2 else 16.0) for step in range(8) for e in (ENT, OTHER)]
    poison = [*MALFORMED.values(), orjson.dumps(_overflowing_quality(ENT, 3))]
    sent: list[bytes] = [orjson.dumps(r) for r in good[:5]] + poison + [orjson.dumps(r) for r in good[5:]]
    expected = _limit_key(RuleEngine(registry, clock=lambda: 0).process(readings=good))
    assert {t[0] for t in expected} == {ENT, OTHER}

    await worker.create_topics()
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for raw in sent:   # ENT's key for the poison: it lands in ENT's partition, as a buggy producer's would
            enterprise = OTHER if raw.count(OTHER.encode()) else ENT
            await producer.send(worker.topics["readings"], raw, key=enterprise.encode())
        await producer.flush()
    finally:
        await producer.stop()
    worker.start()
    try:
        out = await worker.transitions(until=len(expected), timeout_s=90, quiet_s=5)
        dead = await _committed(settings, worker.names.deadletter, len(poison), timeout_s=30)
        metrics = await _committed(settings, worker.names.metrics, 1, timeout_s=30)
    finally:
        worker.kill()
    log = worker.log.read_text(errors="replace")
    assert _limit_key(out) == expected, log[-3000:]
    assert sorted(m.value for m in dead) == sorted(poison)
    headers = [dict(m.headers) for m in dead]
    assert all(h["reason"].startswith(b"rules_") and h["topic"] == worker.topics["readings"].encode() for h in headers)
    assert sorted(h["reason"] for h in headers).count(b"rules_engine_error") == 1
    assert len({(h["partition"], h["offset"]) for h in headers}) == len(poison)
    assert log.count("record set aside") == len(poison)
    assert "\x1b" not in log
    assert "rules agent failed" not in log
    gauges = [orjson.loads(m.value).get("gauges", {}) for m in metrics]
    assert max(g.get("rules_set_aside", 0) for g in gauges) == len(poison)
