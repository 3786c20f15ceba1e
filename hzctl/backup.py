"""``hazmon backup DIR`` / ``hazmon restore DIR``: what a deployment cannot rebuild, in one directory.

A backup holds (docs/operations.md, "Backup and restore"):

- ``secrets.json`` (passwords, tokens, the platform's MQTT identity) and ``tls/`` (the broker's CA
  that every device trusts, with its key): copied as files (both are replaced whole, never edited);
- the registry's YAML files;
- the duty desk's SQLite file (officer accounts, handovers): SQLite's online backup, consistent while
  alerting writes it;
- the alarm record, the record of truth (§8, kept for good): every committed record of the alarm
  transitions and actions topics up to the ends they had when the backup began, gzipped JSON lines
  (partition, offset, time, key, value, headers). The actions' ends are taken before the transitions':
  an officer acts on an alarm already in the transitions topic, so every action saved finds its alarm;
- InfluxDB's database: ``influxd backup -portable`` (data of every retention policy, the policies).

Left out because they are derived or transient: the alarm ledger (alerting folds the restored topics
into a new one; a restore removes the old one, whose offsets name the old topics), the readings,
events and statuses topics (7 days, already in InfluxDB), the rules' state changelog, the alarm
changes topic. ``manifest.json`` says what was saved, how much, each file's SHA-256 and the platform
version; a restore checks every file against it before it writes anything.

A backup is written into ``DIR.partial`` and renamed ``DIR`` when complete. A restore refuses
(:class:`UserError`) a home that already holds data unless ``force``: then it replaces the files,
drops the database and deletes the alarm topics' records before writing the backup's.
"""

from __future__ import annotations

import asyncio
import base64
import gzip
import hashlib
import json
import shutil
import sqlite3
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from importlib.metadata import version
from pathlib import Path

import orjson
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, ConsumerRecord, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, RecordsToDelete
from aiokafka.partitioner import DefaultPartitioner
from aiokafka.producer.message_accumulator import BatchBuilder

from hazmon import topics
from hazmon.errors import UserError
from hazmon.kafka_topics import ensure_topics
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from hzctl.stack import influxdb
from hzctl.stack.certs import tls_dir

FORMAT = 1
MANIFEST = "manifest.json"
ALARM_RECORD = (topics.ALARM_ACTIONS, topics.ALARM_TRANSITIONS)   # ends taken in this order (module doc)
REGISTRY_SUFFIXES = (".yaml", ".yml", ".geojson")   # the enterprises' files and the county boundary
PROGRESS_EVERY_S = 5.0
GZIP_LEVEL = 6            # gzip's default 9: 10 % smaller alarm records in 2.5 times the time
BATCH_BYTES = 1024 * 1024   # records written back to Kafka per batch, at most
STEPS = 6

Say = Callable[[str], None]


@dataclass(frozen=True, slots=True)
class Home:
    """Where one installation keeps what a backup holds (from its settings and its topics' suffix)."""

    secrets: Path
    tls: Path
    registry: Path
    desk: Path
    ledger: Path
    topics: dict[str, str]   # platform name (hazmon.topics) → this installation's topic
    bootstrap: str
    database: str

    @classmethod
    def of(cls, settings: Settings) -> Home:
        names = PlatformTopics.of(settings)
        return cls(settings.secrets_path, tls_dir(settings), settings.registry_dir, settings.desk_path,
                   settings.ledger_path, {topics.ALARM_ACTIONS: names.actions, topics.ALARM_TRANSITIONS: names.transitions},
                   settings.kafka_bootstrap, settings.influx_db)


class Progress:
    """``[backup 3/6] …`` lines on stdout, one per step and one per ``PROGRESS_EVERY_S`` of long work:
    never ``\\r``, so a log file gets lines."""

    def __init__(self, verb: str, say: Say = print) -> None:
        self.verb, self.say, self.step, self.started = verb, say, 0, time.monotonic()

    def next(self, what: str) -> None:
        self.step += 1
        self.line(what)

    def line(self, what: str) -> None:
        self.say(f"[{self.verb} {self.step}/{STEPS}] {what}")


# --- backup ---------------------------------------------------------------------------------------

def backup(settings: Settings, directory: Path, *, with_influx: bool = True,
           say: Say = print) -> dict:
    """Back the installation of ``settings`` up into ``directory`` (absent or empty); the manifest."""
    home = Home.of(settings)
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise UserError(f"{directory} exists and is not empty: back up into a new directory")
    partial = directory.with_name(directory.name + ".partial")
    if partial.exists():
        raise UserError(f"{partial} exists (an interrupted backup?): delete it first")
    if not home.secrets.is_file():
        raise UserError(f"no secrets file at {home.secrets}: is HAZMON_HOME (or HAZMON_SECRETS_FILE) right?")
    partial.mkdir(mode=0o700, parents=True)
    progress = Progress("backup", say)
    try:
        manifest = _save(settings, home, partial, with_influx, progress)
    except BaseException:
        shutil.rmtree(partial, ignore_errors=True)   # no half backup left behind (a restore would refuse it anyway)
        raise
    partial.rename(directory)
    say(f"[backup] done in {time.monotonic() - progress.started:.1f} s: {directory}")
    return manifest


def _save(settings: Settings, home: Home, partial: Path, with_influx: bool, progress: Progress) -> dict:
    items: dict[str, dict] = {}

    progress.next(f"secrets from {home.secrets}")
    shutil.copy2(home.secrets, partial / "secrets.json")
    items["secrets"] = {"enterprises": len(orjson.loads(home.secrets.read_bytes()).get("enterprises", {}))}
    progress.line(f"secrets: {items['secrets']['enterprises']} enterprises")

    progress.next(f"the broker's CA and certificates from {home.tls}")
    tls = sorted(p.name for p in home.tls.glob("*") if p.is_file()) if home.tls.is_dir() else []
    for name in tls:
        (partial / "tls").mkdir(mode=0o700, exist_ok=True)
        shutil.copy2(home.tls / name, partial / "tls" / name)
    items["tls"] = {"files": tls}
    progress.line(f"tls: {', '.join(tls) or 'none (the next stack up or hazmon-init makes a new CA)'}")

    progress.next(f"registry from {home.registry}")
    registry = sorted(registry_files(home.registry))
    for relative in registry:
        (partial / "registry" / relative).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(home.registry / relative, partial / "registry" / relative)
    items["registry"] = {"files": len(registry)}
    progress.line(f"registry: {len(registry)} files")

    progress.next(f"the desk's accounts and handovers from {home.desk}")
    if home.desk.is_file():
        copy_sqlite(home.desk, partial / "desk.sqlite3")
        items["desk"] = {"accounts": desk_accounts(partial / "desk.sqlite3")}
        progress.line(f"desk: {items['desk']['accounts']} accounts")
    else:
        progress.line("desk: no desk file yet (no accounts)")

    progress.next(f"the alarm record: {', '.join(home.topics.values())}")
    (partial / "kafka").mkdir(mode=0o700)
    items["alarm_record"] = asyncio.run(dump_alarm_record(home, partial / "kafka", progress))

    if with_influx:
        progress.next(f"InfluxDB database {home.database} (influxd backup -portable)")
        items["influxdb"] = backup_influx(settings, home.database, partial / "influxdb", progress)
        progress.line(f"influxdb: {items['influxdb']['shards']} shards, {items['influxdb']['bytes']:,} bytes")
    else:
        progress.next("InfluxDB left out (--no-influx)")

    manifest = {"format": FORMAT, "platform_version": version("hazmon"), "created_ms": int(time.time() * 1000),
                "source": {"home": str(settings.home), "registry": str(home.registry), "topics": home.topics,
                           "influx_db": home.database},
                "items": items, "files": checksums(partial)}
    (partial / MANIFEST).write_bytes(orjson.dumps(manifest, option=orjson.OPT_INDENT_2))
    return manifest


def registry_files(directory: Path) -> Iterator[Path]:
    """The registry's files (the enterprises' YAML, the county boundary), relative to ``directory``."""
    if directory.is_dir():
        for path in directory.rglob("*"):
            if path.is_file() and path.suffix in REGISTRY_SUFFIXES:
                yield path.relative_to(directory)


def copy_sqlite(source: Path, target: Path) -> None:
    """SQLite's online backup: a consistent copy while another process writes (WAL included)."""
    with sqlite3.connect(f"file:{source}?mode=ro", uri=True) as reader, sqlite3.connect(target) as writer:
        reader.backup(writer)
    reader.close()
    writer.close()
    target.chmod(0o600)


def desk_accounts(path: Path) -> int:
    with sqlite3.connect(f"file:{path}?mode=ro", uri=True) as db:
        tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
        count = db.execute("SELECT count(*) FROM account").fetchone()[0] if "account" in tables else 0
    db.close()
    return int(count)


def checksums(directory: Path) -> dict[str, str]:
    """SHA-256 of every file under ``directory`` but the manifest, by relative path."""
    sums = {}
    for path in sorted(p for p in directory.rglob("*") if p.is_file() and p.name != MANIFEST):
        digest = hashlib.sha256()
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        sums[str(path.relative_to(directory))] = digest.hexdigest()
    return sums


def _text(data: bytes | None) -> dict:
    """A key or value as JSON: UTF-8 text when it is (the platform's are), else base64."""
    if data is None:
        return {}
    try:
        return {"": data.decode("utf-8")}
    except UnicodeDecodeError:
        return {"b64": base64.b64encode(data).decode()}


def _line(record: ConsumerRecord) -> bytes:
    key, value = _text(record.key), _text(record.value)
    line = {"p": record.partition, "o": record.offset, "t": record.timestamp,
            **{f"k{k}": v for k, v in key.items()}, **{f"v{k}": v for k, v in value.items()},
            "h": [[name, base64.b64encode(data).decode()] for name, data in record.headers or ()]}
    return orjson.dumps(line) + b"\n"


async def dump_alarm_record(home: Home, directory: Path, progress: Progress) -> dict[str, dict]:
    """Every committed record of the alarm topics up to their present ends, one gzipped file per topic."""
    existing = await topic_partitions(home.bootstrap, home.topics.values())
    for name in home.topics.values():
        if name not in existing:
            raise UserError(f"Kafka at {home.bootstrap} has no topic {name}: is the topic suffix right?")
    consumer = AIOKafkaConsumer(bootstrap_servers=home.bootstrap, group_id=None, enable_auto_commit=False,
                                isolation_level="read_committed", max_partition_fetch_bytes=4 * 1024 * 1024)
    await consumer.start()
    try:
        ends: dict[TopicPartition, int] = {}
        for base in ALARM_RECORD:     # the actions' ends first: see the module's docstring
            ends.update(await consumer.end_offsets(existing[home.topics[base]]))
        begins = await consumer.beginning_offsets(list(ends))
        consumer.assign(list(ends))
        for tp, begin in begins.items():
            consumer.seek(tp, begin)
        base_of = {name: base for base, name in home.topics.items()}
        files = {name: gzip.open(directory / f"{base_of[name]}.jsonl.gz", "wb", compresslevel=GZIP_LEVEL)
                 for name in home.topics.values()}
        counts: Counter[str] = Counter()
        alarms: set[str] = set()
        actions: Counter[str] = Counter()
        waiting = {tp for tp, end in ends.items() if end > begins[tp]}
        total = sum(ends[tp] - begins[tp] for tp in waiting)   # offsets, transaction markers included
        shown = time.monotonic()
        try:
            while waiting:
                for tp, records in (await consumer.getmany(*waiting, timeout_ms=500, max_records=5000)).items():
                    kept = [record for record in records if record.offset < ends[tp]]
                    files[tp.topic].write(b"".join(map(_line, kept)))   # one compression call per batch
                    counts[tp.topic] += len(kept)
                    for record in kept:
                        _tally(base_of[tp.topic], record.value, alarms, actions)
                for tp in list(waiting):
                    if await consumer.position(tp) >= ends[tp]:
                        waiting.discard(tp)
                if time.monotonic() - shown >= PROGRESS_EVERY_S:
                    shown = time.monotonic()
                    progress.line(f"alarm record: {sum(counts.values()):,} records read (of at most {total:,})")
        finally:
            for handle in files.values():
                handle.close()
    finally:
        await consumer.stop()
    summary = {base: {"topic": name, "file": f"kafka/{base}.jsonl.gz", "records": counts[name],
                      "partitions": len([tp for tp in ends if tp.topic == name])}
               for base, name in home.topics.items()}
    summary[topics.ALARM_TRANSITIONS]["alarms"] = len(alarms)
    summary[topics.ALARM_ACTIONS]["actions"] = dict(sorted(actions.items()))
    progress.line(f"alarm record: {counts[home.topics[topics.ALARM_TRANSITIONS]]:,} transitions of {len(alarms):,} "
                  f"alarms, {counts[home.topics[topics.ALARM_ACTIONS]]:,} actions")
    return summary


def _tally(base: str, value: bytes | None, alarms: set[str], actions: Counter[str]) -> None:
    try:
        record = orjson.loads(value or b"")
    except orjson.JSONDecodeError:
        return
    if not isinstance(record, dict):
        return
    if base == topics.ALARM_TRANSITIONS and isinstance(record.get("id"), str):
        alarms.add(record["id"])
    elif base == topics.ALARM_ACTIONS:
        actions[str(record.get("action"))] += 1


def backup_influx(settings: Settings, database: str, directory: Path, progress: Progress) -> dict:
    if database not in influx_databases(settings):
        raise UserError(f"InfluxDB at {settings.influx_url} has no database {database!r}: is HAZMON_INFLUX_DB right? "
                        f"(--no-influx leaves InfluxDB out)")
    _influxd(settings, lambda: influxdb.backup(settings, directory, database), "back InfluxDB up", progress,
             lambda: f"influxdb: {_bytes_in(directory):,} bytes copied so far")
    shards = [entry for manifest in directory.glob("*.manifest")
              for entry in json.loads(manifest.read_text())["files"]]
    return {"database": database, "dir": "influxdb", "shards": len(shards), "bytes": _bytes_in(directory)}


def _bytes_in(directory: Path) -> int:
    return sum(p.stat().st_size for p in directory.glob("*") if p.is_file())


def _influxd(settings: Settings, work: Callable[[], None], doing: str, progress: Progress,
             so_far: Callable[[], str]) -> None:
    """``work`` (an influxd command, silent until it ends) in a thread, with a progress line every
    ``PROGRESS_EVERY_S``; its failures told as the user's to act on."""
    with ThreadPoolExecutor(1) as pool:
        running = pool.submit(work)
        while True:
            try:
                running.result(timeout=PROGRESS_EVERY_S)
                return
            except TimeoutError:
                progress.line(so_far())
            except FileNotFoundError:
                raise UserError(f"no influxd at {influxdb.InfluxDB(settings).binary}: `hazmon stack up` builds it; in "
                                f"a docker-compose deployment {doing} in its container (docs/operations.md) and use "
                                "--no-influx here") from None
            except influxdb.BackupError as failed:
                raise UserError(str(failed)) from None


def influx_databases(settings: Settings) -> set[str]:
    series = influxdb.query(settings, "SHOW DATABASES")["results"][0].get("series", [])
    return {row[0] for row in series[0].get("values", [])} if series else set()


# --- restore --------------------------------------------------------------------------------------

def restore(settings: Settings, directory: Path, *, force: bool = False,
            with_influx: bool = True, say: Say = print) -> dict:
    """Restore the backup in ``directory`` into the installation of ``settings``; the backup's manifest."""
    home = Home.of(settings)
    manifest = read_manifest(directory)
    items = manifest["items"]
    restore_influx = with_influx and "influxdb" in items
    conflicts = [*file_conflicts(home, directory), *asyncio.run(topic_conflicts(home))]
    if restore_influx and influx_holds_data(settings, home.database):
        conflicts.append(f"InfluxDB database {home.database!r} holds data")
    if conflicts and not force:
        raise UserError("this installation already holds data, restore refused:\n  " + "\n  ".join(conflicts)
                        + "\n(--force replaces it with the backup's; stop ingest, rules, alerting and the recorder first)")
    progress = Progress("restore", say)
    say(f"[restore] backup of {time.strftime('%Y-%m-%d %H:%M:%S', time.localtime(manifest['created_ms'] / 1000))}, "
        f"platform {manifest['platform_version']} (this is {version('hazmon')})")

    progress.next(f"secrets into {home.secrets}")
    _replace_file(directory / "secrets.json", home.secrets)
    progress.line(f"secrets: {items['secrets']['enterprises']} enterprises")

    progress.next(f"the broker's CA and certificates into {home.tls}")
    for name in items["tls"]["files"]:
        home.tls.mkdir(mode=0o755, parents=True, exist_ok=True)   # as hzctl.stack.certs keeps it
        _replace_file(directory / "tls" / name, home.tls / name)
    progress.line(f"tls: {', '.join(items['tls']['files']) or 'none in the backup'}")

    progress.next(f"registry into {home.registry}")
    written = 0
    for relative in registry_files(directory / "registry"):
        written += _replace_file(directory / "registry" / relative, home.registry / relative)
    progress.line(f"registry: {items['registry']['files']} files ({written} written, the rest were the same)")

    progress.next(f"the desk into {home.desk}; the alarm ledger {home.ledger} is rebuilt by alerting")
    if "desk" in items:
        home.desk.parent.mkdir(parents=True, exist_ok=True)
        _remove_sqlite(home.desk)
        copy_sqlite(directory / "desk.sqlite3", home.desk)
    _remove_sqlite(home.ledger)
    progress.line(f"desk: {items.get('desk', {}).get('accounts', 0)} accounts")

    progress.next(f"the alarm record into {', '.join(home.topics.values())}")
    asyncio.run(load_alarm_record(settings, home, directory, items["alarm_record"], progress))

    if restore_influx:
        progress.next(f"InfluxDB database {home.database} (influxd restore -portable)")
        restore_influx_database(settings, directory / items["influxdb"]["dir"], home.database, progress)
        progress.line(f"influxdb: {items['influxdb']['shards']} shards restored as {home.database}")
    else:
        progress.next("InfluxDB left out" + (" (--no-influx)" if "influxdb" in items else " (not in the backup)"))
    say(f"[restore] done in {time.monotonic() - progress.started:.1f} s: start alerting and the recorder; alerting folds the alarm record "
        "into a new ledger")
    return manifest


def read_manifest(directory: Path) -> dict:
    """The backup's manifest, once every file it lists is there with its checksum."""
    path = directory / MANIFEST
    if not path.is_file():
        raise UserError(f"{directory} is not a hazmon backup (no {MANIFEST})")
    manifest = orjson.loads(path.read_bytes())
    if manifest.get("format") != FORMAT:
        raise UserError(f"{path}: backup format {manifest.get('format')!r}, this hazmon reads format {FORMAT}")
    found = checksums(directory)
    damaged = sorted(name for name, digest in manifest["files"].items() if found.get(name) != digest)
    if damaged:
        raise UserError(f"the backup in {directory} is damaged (missing or changed): {', '.join(damaged)}")
    return manifest


def _differs(source: Path, target: Path) -> bool:
    return target.exists() and target.read_bytes() != source.read_bytes()


def file_conflicts(home: Home, directory: Path) -> list[str]:
    """What the backup's files would replace (a file the same as the backup's is no conflict)."""
    conflicts = []
    if _differs(directory / "secrets.json", home.secrets):
        conflicts.append(f"secrets file {home.secrets}")
    if any(_differs(p, home.tls / p.name) for p in (directory / "tls").glob("*")):
        conflicts.append(f"broker certificates in {home.tls}")
    saved = set(registry_files(directory / "registry"))
    present = set(registry_files(home.registry))
    if present - saved or any(_differs(directory / "registry" / r, home.registry / r) for r in saved):
        conflicts.append(f"registry {home.registry} (other enterprise files)")
    if home.desk.is_file() and desk_accounts(home.desk):
        conflicts.append(f"desk {home.desk} ({desk_accounts(home.desk)} accounts)")
    if home.ledger.is_file():
        with sqlite3.connect(f"file:{home.ledger}?mode=ro", uri=True) as db:
            tables = {row[0] for row in db.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
            alarms = db.execute("SELECT count(*) FROM alarms").fetchone()[0] if "alarms" in tables else 0
        db.close()
        if alarms:
            conflicts.append(f"alarm ledger {home.ledger} ({alarms} alarms)")
    return conflicts


async def _partition_ranges(home: Home) -> dict[TopicPartition, tuple[int, int]]:
    """(first, end) offsets of each partition of the alarm topics that exist."""
    partitions = [tp for found in (await topic_partitions(home.bootstrap, home.topics.values())).values() for tp in found]
    if not partitions:
        return {}
    consumer = AIOKafkaConsumer(bootstrap_servers=home.bootstrap, group_id=None, enable_auto_commit=False)
    await consumer.start()
    try:
        begins = await consumer.beginning_offsets(partitions)
        ends = await consumer.end_offsets(partitions)
        return {tp: (begins[tp], ends[tp]) for tp in partitions}
    finally:
        await consumer.stop()


async def topic_partitions(bootstrap: str, names: Iterable[str]) -> dict[str, list[TopicPartition]]:
    """The partitions of each topic of ``names`` that exists (from the brokers now: a consumer's
    ``partitions_for_topic`` answers from metadata it may have fetched before the topic was made)."""
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        wanted = set(names) & set(await admin.list_topics())
        described = await admin.describe_topics(sorted(wanted)) if wanted else []
    finally:
        await admin.close()
    return {topic["topic"]: [TopicPartition(topic["topic"], p["partition"]) for p in sorted(
        topic["partitions"], key=lambda p: p["partition"])] for topic in described}


async def topic_conflicts(home: Home) -> list[str]:
    held = Counter(tp.topic for tp, (first, end) in (await _partition_ranges(home)).items() if end > first)
    return [f"Kafka topic {name} holds records" for name in sorted(held)]


def influx_holds_data(settings: Settings, database: str) -> bool:
    if database not in influx_databases(settings):
        return False
    series = influxdb.query(settings, f"SHOW MEASUREMENTS ON {_quoted(database)}")["results"][0].get("series")
    return bool(series)


def _quoted(name: str) -> str:
    return '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _replace_file(source: Path, target: Path) -> bool:
    """``target`` made the same as ``source`` (mode included), written atomically; whether it was written."""
    if target.exists() and target.read_bytes() == source.read_bytes():
        return False
    target.parent.mkdir(parents=True, exist_ok=True)
    temporary = target.with_name(target.name + ".restoring")
    shutil.copy2(source, temporary)
    temporary.replace(target)
    return True


def _remove_sqlite(path: Path) -> None:
    for part in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        part.unlink(missing_ok=True)


def _bytes(line: dict, prefix: str) -> bytes | None:
    if prefix in line:
        return line[prefix].encode("utf-8")
    if f"{prefix}b64" in line:
        return base64.b64decode(line[f"{prefix}b64"])
    return None


async def load_alarm_record(settings: Settings, home: Home, directory: Path, saved: dict[str, dict],
                            progress: Progress) -> None:
    """Write the backup's alarm record into this installation's topics, each record into its partition
    (by its key when the partition counts differ), with its time and headers; transitions first."""
    partitions = await ensure_topics(settings, home.topics.values())
    stale = {tp: RecordsToDelete(end) for tp, (first, end) in (await _partition_ranges(home)).items() if end > first}
    if stale:   # only with --force: checked before
        admin = AIOKafkaAdminClient(bootstrap_servers=home.bootstrap)
        await admin.start()
        try:
            await admin.delete_records(stale, timeout_ms=60_000)
        finally:
            await admin.close()
        progress.line(f"alarm record: the records the topics held deleted ({len(stale)} partitions)")
    producer = AIOKafkaProducer(bootstrap_servers=home.bootstrap, enable_idempotence=True, acks="all",
                                max_batch_size=BATCH_BYTES, max_request_size=8 * 1024 * 1024)
    await producer.start()
    try:
        for base in reversed(ALARM_RECORD):   # transitions before the actions on them
            topic, entry = home.topics[base], saved[base]
            same_partitions = partitions[topic] == entry["partitions"]
            with gzip.open(directory / entry["file"], "rb") as lines:
                await _produce(producer, topic, lines, None if same_partitions else partitions[topic], entry, progress)
            progress.line(f"alarm record: {topic} {entry['records']:,} records written"
                          + ("" if same_partitions else f" (by key: {partitions[topic]} partitions, the backup's "
                                                          f"{entry['partitions']})"))
    finally:
        await producer.stop()


async def _produce(producer: AIOKafkaProducer, topic: str, lines: Iterable[bytes], by_key: int | None, entry: dict,
                   progress: Progress) -> None:
    """Each line's record into its saved partition (``by_key`` None) or into the partition of its key among
    ``by_key``, in order, as whole batches (a send per record cost 60 µs of aiokafka's own work)."""
    partition_of = DefaultPartitioner()
    every = list(range(by_key or 0))
    batches: dict[int, BatchBuilder] = {}
    sent: list[asyncio.Future] = []
    shown, done = time.monotonic(), 0
    for raw in lines:
        line = orjson.loads(raw)
        record = {"key": _bytes(line, "k"), "value": _bytes(line, "v"), "timestamp": line["t"],
                  "headers": [(name, base64.b64decode(data)) for name, data in line["h"]]}
        partition = line["p"] if by_key is None else partition_of(record["key"], every, every)
        if partition not in batches:
            batches[partition] = producer.create_batch()
        batch = batches[partition]
        if batch.append(**record) is None:     # full: send it, start the next
            sent.append(await producer.send_batch(batch, topic, partition=partition))
            batch = batches[partition] = producer.create_batch()
            if batch.append(**record) is None:
                raise UserError(f"a record of {topic} is larger than a Kafka batch ({BATCH_BYTES} bytes)")
        done += 1
        if time.monotonic() - shown >= PROGRESS_EVERY_S:
            shown = time.monotonic()
            progress.line(f"alarm record: {topic} {done:,} of {entry['records']:,} records written")
    for partition, batch in batches.items():
        if batch.record_count():
            sent.append(await producer.send_batch(batch, topic, partition=partition))
    await asyncio.gather(*sent)


def restore_influx_database(settings: Settings, directory: Path, database: str, progress: Progress) -> None:
    """``influxd restore`` never writes into an existing database: an existing one (empty, or --force) is dropped."""
    if database in influx_databases(settings):
        influxdb.query(settings, f"DROP DATABASE {_quoted(database)}")
    started = time.monotonic()
    _influxd(settings, lambda: influxdb.restore(settings, directory, database), "restore InfluxDB", progress,
             lambda: f"influxdb: restoring for {time.monotonic() - started:.0f} s")
