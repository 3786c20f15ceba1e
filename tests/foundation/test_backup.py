"""``hazmon backup`` / ``hazmon restore`` on the real Kafka and InfluxDB: an installation (secrets, the
broker's CA, registry, a desk account, alarm topics written in Kafka transactions, readings) restored
into a fresh home, fresh topics and a fresh database holds the same; a second restore over it is
refused (exit 2, no traceback) unless ``--force``, which replaces instead of doubling."""

from __future__ import annotations

import asyncio
import shutil
import time
from collections.abc import Iterator
from pathlib import Path

import aiohttp
import orjson
import pytest
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer

from alerting.desk.accounts import Accounts
from recorder.influx import InfluxWriter
from hazmon import topics
from hzctl.backup import MANIFEST, backup, restore, topic_partitions
from hzctl.cli import main
from hazmon.errors import UserError
from hazmon.kafka_topics import ensure_topics
from hazmon.registry import load_registry
from hazmon.secrets import load_secrets
from hazmon.series import HOUR_POLICY, MINUTE_POLICY, RAW_POLICY, READING
from hazmon.settings import PACKAGE_DIR, Settings, get_settings
from hzctl.stack.certs import ensure_certificates, tls_dir
from hzctl.stack.influxdb import query

pytestmark = pytest.mark.servers
ALARM_TOPICS = (topics.ALARM_TRANSITIONS, topics.ALARM_ACTIONS)
PASSWORD = "值班员密码-12345"
Record = tuple[int, bytes | None, bytes | None, int, tuple]   # partition, key, value, time, headers


def installation(settings: Settings, root: Path, database: str) -> Settings:
    """An installation's settings under ``root``: its own home, registry and database; the shared servers."""
    return settings.model_copy(update={"home": root / "home", "registry_dir": root / "registry", "secrets_file": None,
                                       "desk_file": None, "alerting_ledger_file": None, "cache_dir": settings.cache_path,
                                       "influx_db": database})


@pytest.fixture
def environment(monkeypatch: pytest.MonkeyPatch) -> Iterator[pytest.MonkeyPatch]:
    """Set ``HAZMON_*`` for ``hzctl.cli.main`` (its settings are read once per process: cleared around)."""
    get_settings.cache_clear()
    yield monkeypatch
    monkeypatch.undo()
    get_settings.cache_clear()


def use(environment: pytest.MonkeyPatch, settings: Settings) -> None:
    for name, value in (("HOME", settings.home), ("REGISTRY_DIR", settings.registry_dir),
                        ("CACHE_DIR", settings.cache_path), ("INFLUX_DB", settings.influx_db),
                        ("KAFKA_TOPIC_SUFFIX", settings.kafka_topic_suffix)):
        environment.setenv(f"HAZMON_{name}", str(value))
    environment.delenv("HAZMON_SECRETS_FILE", raising=False)
    get_settings.cache_clear()


@pytest.fixture
def databases(influxdb: Settings, unique: str) -> Iterator[tuple[str, str]]:
    names = (f"hz_bsrc_{unique}", f"hz_bdst_{unique}")
    yield names

    async def drop() -> None:
        async with aiohttp.ClientSession() as session:
            for name in names:
                await session.post(f"{influxdb.influx_url}/query", data={"q": f'DROP DATABASE "{name}"'})
    asyncio.run(drop())


async def write_alarm_record(settings: Settings, suffix: str, enterprises: list[str]) -> None:
    """Transitions in committed transactions and one aborted (never part of the record), then actions."""
    names = [base + suffix for base in ALARM_TOPICS]
    await ensure_topics(settings, names)
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, transactional_id=f"backup-test{suffix}")
    await producer.start()
    try:
        now = int(time.time() * 1000)
        for n in range(30):
            async with producer.transaction():
                enterprise = enterprises[n % len(enterprises)]
                await producer.send(names[0], orjson.dumps({"id": f"A{n}", "enterprise": enterprise, "state": "active"}),
                                    key=enterprise.encode(), timestamp_ms=now - 1000 * n)
        await producer.begin_transaction()
        await producer.send(names[0], orjson.dumps({"id": "aborted", "enterprise": enterprises[0]}),
                            key=enterprises[0].encode())
        await producer.abort_transaction()
    finally:
        await producer.stop()
    plain = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, acks="all")
    await plain.start()
    try:
        for n in range(0, 30, 3):
            enterprise = enterprises[n % len(enterprises)]
            await plain.send_and_wait(names[1], orjson.dumps({"action": "ack", "alarm": f"A{n}", "officer": "张三"}),
                                      key=enterprise.encode(), headers=[("by", b"desk")])
    finally:
        await plain.stop()


async def records(settings: Settings, topic: str) -> list[Record]:
    """Every committed record of ``topic``, by partition then offset."""
    consumer = AIOKafkaConsumer(bootstrap_servers=settings.kafka_bootstrap, group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed")
    partitions = (await topic_partitions(settings.kafka_bootstrap, [topic]))[topic]
    await consumer.start()
    try:
        consumer.assign(partitions)
        await consumer.seek_to_beginning(*partitions)
        ends = await consumer.end_offsets(partitions)
        found: list[Record] = []
        while any([await consumer.position(tp) < ends[tp] for tp in partitions]):
            for batch in (await consumer.getmany(timeout_ms=500)).values():
                found += [(r.partition, r.key, r.value, r.timestamp, tuple(r.headers)) for r in batch]
        return sorted(found, key=lambda r: r[0])   # stable: each partition's order kept
    finally:
        await consumer.stop()


async def write_readings(settings: Settings) -> None:
    now = int(time.time() * 1000)
    writer = InfluxWriter(settings)
    try:
        await writer.write([*(f"reading,enterprise=E1,point=P{i % 3},site=S1,type=pressure value={i}.25 {now - i * 1000}"
                              for i in range(200)),
                            f'alarm,enterprise=E1,site=S1,point=P1,rule=limit,level=high,state=active id="A0" {now}'])
    finally:
        await writer.close()


def influx_contents(settings: Settings, database: str) -> dict[str, list]:
    """Every retention policy of ``database`` and every point written to it (not the continuous queries'
    aggregates: those go on in the source, and ``influxd`` does not carry the queries, which alerting
    makes again at its start), by ``policy.measurement``."""
    def series(statement: str) -> list[dict]:
        result = query(settings, statement)["results"][0]
        assert "error" not in result, (statement, result)
        return result.get("series", [])

    policies = [row for s in series(f'SHOW RETENTION POLICIES ON "{database}"') for row in s["values"]]
    return {"policies": policies, **{f"{policy[0]}.{s['name']}": s["values"] for policy in policies
                                     if policy[0] not in (MINUTE_POLICY, HOUR_POLICY)
                                     for s in series(f'SELECT * FROM "{database}"."{policy[0]}"./.*/')}}


def same_contents(settings: Settings, source: str, restored: str) -> tuple[dict[str, list], dict[str, list]]:
    """Both databases' contents, once equal or after 15 s (influxd opens restored shards after it returns)."""
    deadline = time.monotonic() + 15
    while (found := (influx_contents(settings, source), influx_contents(settings, restored)))[0] != found[1] \
            and time.monotonic() < deadline:
        time.sleep(0.2)
    return found


def test_a_fresh_home_restored_holds_the_same_and_a_second_restore_is_refused(
        kafka: str, influxdb: Settings, databases: tuple[str, str], unique: str, tmp_path: Path,
        environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    source = installation(influxdb, tmp_path / "source", databases[0])
    fresh = installation(influxdb, tmp_path / "fresh", databases[1])
    shutil.copytree(PACKAGE_DIR / "sample_registry", source.registry_dir)
    enterprises = sorted(load_registry(source.registry_dir).enterprises)
    secrets = load_secrets(source.secrets_path, enterprises)
    ensure_certificates(tls_dir(source), ["localhost"])
    Accounts(source.desk_path, 12).add("duty1", "duty", PASSWORD, display_name="张三")
    suffix, fresh_suffix = f".test-{unique}", f".test-{unique}r"
    asyncio.run(write_alarm_record(source, suffix, enterprises))
    asyncio.run(write_readings(source))
    saved = {base: asyncio.run(records(source, base + suffix)) for base in ALARM_TOPICS}
    influx_before = influx_contents(source, databases[0])
    assert len(saved[topics.ALARM_TRANSITIONS]) == 30
    assert len(influx_before[f"{RAW_POLICY}.{READING}"]) == 200

    use(environment, source.model_copy(update={"kafka_topic_suffix": suffix}))
    assert main(["backup", str(tmp_path / "b")]) == 0
    out = capsys.readouterr().out
    assert "\r" not in out and "[backup 6/6]" in out, out
    manifest = orjson.loads((tmp_path / "b" / MANIFEST).read_bytes())
    assert manifest["items"]["alarm_record"][topics.ALARM_TRANSITIONS]["records"] == 30   # the aborted one left out
    assert manifest["items"]["alarm_record"][topics.ALARM_TRANSITIONS]["alarms"] == 30
    assert manifest["items"]["alarm_record"][topics.ALARM_ACTIONS]["actions"] == {"ack": 10}
    assert manifest["items"]["desk"] == {"accounts": 1} and manifest["items"]["secrets"]["enterprises"] == 3
    assert manifest["platform_version"]

    use(environment, fresh.model_copy(update={"kafka_topic_suffix": fresh_suffix}))
    assert main(["restore", str(tmp_path / "b")]) == 0
    assert "\r" not in capsys.readouterr().out
    assert load_secrets(fresh.secrets_path, enterprises) == secrets
    assert sorted(p.name for p in tls_dir(fresh).iterdir()) == sorted(p.name for p in tls_dir(source).iterdir())
    assert (tls_dir(fresh) / "ca.key").read_bytes() == (tls_dir(source) / "ca.key").read_bytes()
    assert (tls_dir(fresh) / "ca.key").stat().st_mode & 0o777 == 0o600
    assert load_registry(fresh.registry_dir).enterprises.keys() == load_registry(source.registry_dir).enterprises.keys()
    account = Accounts(fresh.desk_path, 12).verify("duty1", PASSWORD)
    assert account is not None and account.display_name == "张三"
    for base in ALARM_TOPICS:
        assert asyncio.run(records(fresh, base + fresh_suffix)) == saved[base]
    before, restored = same_contents(fresh, *databases)
    assert restored == before and sum(map(len, before.values())) >= 201

    assert main(["restore", str(tmp_path / "b")]) == 2
    refused = capsys.readouterr().err
    assert "already holds data" in refused and "Traceback" not in refused
    assert "--force" in refused and f"{topics.ALARM_TRANSITIONS}{fresh_suffix} holds records" in refused

    assert main(["restore", str(tmp_path / "b"), "--force"]) == 0
    for base in ALARM_TOPICS:    # replaced, not doubled
        assert asyncio.run(records(fresh, base + fresh_suffix)) == saved[base]
    before, restored = same_contents(fresh, *databases)
    assert restored == before and sum(map(len, before.values())) >= 201


def test_a_damaged_backup_is_refused_before_anything_is_written(tmp_path: Path, environment: pytest.MonkeyPatch,
                                                                capsys: pytest.CaptureFixture[str]) -> None:
    backup_dir = tmp_path / "b"
    backup_dir.mkdir()
    (backup_dir / "secrets.json").write_text("{}")
    (backup_dir / MANIFEST).write_bytes(orjson.dumps({"format": 1, "items": {}, "files": {"secrets.json": "0" * 64}}))
    environment.setenv("HAZMON_HOME", str(tmp_path / "home"))
    get_settings.cache_clear()
    assert main(["restore", str(backup_dir)]) == 2
    assert "damaged" in capsys.readouterr().err
    assert not (tmp_path / "home").exists()


def test_a_backup_goes_into_a_new_directory_only(tmp_path: Path, influxdb: Settings) -> None:
    (tmp_path / "b").mkdir()
    (tmp_path / "b" / "other").write_text("x")
    with pytest.raises(UserError, match="not empty"):
        backup(installation(influxdb, tmp_path, "x"), tmp_path / "b")


def test_into_topics_of_another_partition_count_each_enterprise_keeps_one_partition_and_its_order(
        kafka: str, influxdb: Settings, unique: str, tmp_path: Path) -> None:
    source = installation(influxdb, tmp_path / "source", "unused")
    fresh = installation(influxdb, tmp_path / "fresh", "unused")
    enterprises = [f"E{n}" for n in range(7)]
    load_secrets(source.secrets_path, enterprises)
    suffix, fresh_suffix = f".test-{unique}", f".test-{unique}r"
    asyncio.run(write_alarm_record(source, suffix, enterprises))
    asyncio.run(ensure_topics(fresh.model_copy(update={"kafka_partitions": 2}),
                              [base + fresh_suffix for base in ALARM_TOPICS]))
    backup(source.model_copy(update={"kafka_topic_suffix": suffix}), tmp_path / "b", with_influx=False)
    restore(fresh.model_copy(update={"kafka_topic_suffix": fresh_suffix}), tmp_path / "b")
    for base in ALARM_TOPICS:
        saved, restored = (asyncio.run(records(s, base + x)) for s, x in ((source, suffix), (fresh, fresh_suffix)))
        assert {r[0] for r in restored} <= {0, 1} and len(restored) == len(saved)
        for enterprise in enterprises:
            key = enterprise.encode()
            assert len({r[0] for r in restored if r[1] == key}) <= 1
            assert [r[1:] for r in restored if r[1] == key] == [r[1:] for r in saved if r[1] == key]


def test_kafka_not_answering_is_told_in_a_line_and_leaves_no_partial_backup(
        tmp_path: Path, environment: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    load_secrets(tmp_path / "home" / "secrets.json", ["E1"])
    environment.setenv("HAZMON_HOME", str(tmp_path / "home"))
    environment.setenv("HAZMON_KAFKA_BOOTSTRAP", "127.0.0.1:9")     # the discard port: nothing listens
    get_settings.cache_clear()
    assert main(["backup", str(tmp_path / "b")]) == 2
    told = capsys.readouterr().err
    assert "Kafka at 127.0.0.1:9 does not answer" in told and "Traceback" not in told
    assert sorted(p.name for p in tmp_path.iterdir()) == ["home"]


def test_without_influxd_the_backup_says_where_to_back_influxdb_up_and_leaves_nothing(
        kafka: str, influxdb: Settings, databases: tuple[str, str], unique: str, tmp_path: Path) -> None:
    source = installation(influxdb, tmp_path / "source", databases[0]).model_copy(
        update={"cache_dir": tmp_path / "empty-cache"})      # no influxd built there
    load_secrets(source.secrets_path, ["E1"])
    asyncio.run(write_readings(source))
    asyncio.run(ensure_topics(source, [base + f".test-{unique}" for base in ALARM_TOPICS]))
    with pytest.raises(UserError, match="no influxd at .*--no-influx"):
        backup(source.model_copy(update={"kafka_topic_suffix": f".test-{unique}"}), tmp_path / "b")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["source"]
