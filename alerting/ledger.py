"""The alarm ledger: every alarm and its lifecycle, kept for good in SQLite (WAL) under the alerting data dir.

Rows are written after each folded batch of the alarm log, in one transaction together with the
Kafka offsets that batch reached, so the ledger is a consistent snapshot: a restart restores the
alarms not yet closed and the suppressions from it and folds only the topics' tail since those
offsets. Closed alarms live only here and are read on demand (by id, or a page of the listing).

An alarm row is replaced only by a higher ``revision`` (the number of changes folded into it), and
offsets only move forward, so several instances on one host may share the file.

The ``outbox`` holds every notification due per channel, written in the same transaction as the
alarm change that calls for it (staged with :meth:`Ledger.stage_outbox`, committed by the next
:meth:`Ledger.write`, handed on only after that commit) and deleted once delivered or dead-lettered:
a restart re-sends what it still holds. The ``unsent`` table is the same for alerting's records for
other stages (``alerting.topic_sender``): a record queued is staged (:meth:`Ledger.stage_unsent`) and
committed by the next :meth:`Ledger.write`, the one of the batch that made it (with that batch's offsets),
and deleted once Kafka acknowledged it (:meth:`Ledger.stage_sent`, committed by a later write): a restart
queues again what it still holds, so the offsets may pass a record Kafka has not acknowledged yet.
SQLite runs on three
threads of its own, never on the event loop: the writer, look-ups by id (on the alarm path, so never
behind a long page) and pages. Why SQLite, with figures: docs/alerting.md.
"""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import Callable, Iterable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypeVar

import orjson

from alerting.book import Suppression
from alerting.model import Alarm, AlarmEvent, PageKey

T = TypeVar("T")
Offsets = dict[tuple[str, int], int]   # (topic, partition) → the next offset to fold
OutboxKey = tuple[str, int, str]       # (alarm id, revision, channel)
OutboxRow = tuple[str, int, str, str, bytes]   # OutboxKey + (enterprise, the change as JSON)
UnsentKey = tuple[str, str, int]       # (topic, the sender's run, the record's number in that run)
UnsentRow = tuple[str, str, int, bytes, bytes]   # UnsentKey + (key, value)

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (
    id TEXT PRIMARY KEY, enterprise TEXT NOT NULL, started_at INTEGER NOT NULL, closed INTEGER NOT NULL,
    revision INTEGER NOT NULL, body BLOB NOT NULL);   -- body: the alarm as the API shows it (JSON)
CREATE INDEX IF NOT EXISTS alarms_closed_newest ON alarms (closed, started_at DESC, id DESC);
CREATE INDEX IF NOT EXISTS alarms_enterprise_newest ON alarms (enterprise, closed, started_at DESC, id DESC);
CREATE TABLE IF NOT EXISTS alarm_events (
    alarm_id TEXT NOT NULL, ts INTEGER NOT NULL, kind TEXT NOT NULL, by TEXT, detail BLOB,
    PRIMARY KEY (alarm_id, ts, kind)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS suppressions (
    enterprise TEXT NOT NULL, point TEXT NOT NULL, since INTEGER NOT NULL, expires_at INTEGER NOT NULL,
    reason TEXT NOT NULL, by TEXT NOT NULL, PRIMARY KEY (enterprise, point, since)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS outbox (
    alarm_id TEXT NOT NULL, revision INTEGER NOT NULL, channel TEXT NOT NULL, enterprise TEXT NOT NULL,
    change BLOB NOT NULL, PRIMARY KEY (alarm_id, revision, channel));   -- notifications not yet delivered
CREATE TABLE IF NOT EXISTS unsent (
    topic TEXT NOT NULL, run TEXT NOT NULL, number INTEGER NOT NULL, key BLOB NOT NULL, value BLOB NOT NULL,
    PRIMARY KEY (topic, run, number));   -- records for other stages queued and not yet acknowledged by Kafka
CREATE TABLE IF NOT EXISTS offsets (
    topic TEXT NOT NULL, partition INTEGER NOT NULL, next INTEGER NOT NULL, PRIMARY KEY (topic, partition));
"""
_UPSERT_ALARM = """
INSERT INTO alarms (id, enterprise, started_at, closed, revision, body) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (id) DO UPDATE SET closed = excluded.closed, revision = excluded.revision, body = excluded.body
WHERE excluded.revision >= alarms.revision"""
_UPSERT_OFFSET = """
INSERT INTO offsets (topic, partition, next) VALUES (?, ?, ?)
ON CONFLICT (topic, partition) DO UPDATE SET next = max(next, excluded.next)"""


@dataclass(slots=True)
class Snapshot:
    """What a restart restores: the alarms not yet closed, every point's latest suppression, the offsets."""

    alarms: list[Alarm] = field(default_factory=list)
    suppressions: list[Suppression] = field(default_factory=list)
    offsets: Offsets = field(default_factory=dict)


def event_row(event: AlarmEvent) -> tuple[str, int, str, str | None, bytes]:
    """One lifecycle entry, with what the change said (the level and value, the comment, the note)."""
    alarm = event.alarm
    if event.kind == "acknowledged":
        detail: dict = {"comment": alarm.ack_comment}
    elif event.kind == "closed":
        detail = {"note": alarm.close_note, "cause": alarm.close_cause, "measures": alarm.close_measures}
    else:
        detail = {"level": alarm.level, "value": alarm.value, "limit": alarm.limit, "escalation": alarm.escalation}
    return alarm.id, event.ts, event.kind, event.by, orjson.dumps(detail)


def alarm_row(alarm: Alarm) -> tuple[str, str, int, int, int, bytes]:
    """The stored body is the API's JSON of the alarm: one serialisation serves the ledger and the API."""
    return (alarm.id, alarm.enterprise, alarm.started_at, int(alarm.closed_at is not None), alarm.revision,
            alarm.json_bytes(None))


def _write_unsent(db: sqlite3.Connection, rows: list[UnsentRow], acknowledged: list[UnsentKey]) -> None:
    """Records queued, then those acknowledged (a record may be both: acknowledged before its first write)."""
    db.executemany("INSERT OR REPLACE INTO unsent VALUES (?, ?, ?, ?, ?)", rows)
    db.executemany("DELETE FROM unsent WHERE topic = ? AND run = ? AND number = ?", acknowledged)


def _in_transaction(work: Callable[[sqlite3.Connection], None]) -> Callable[[sqlite3.Connection], None]:
    """``work`` as one write transaction (begun IMMEDIATE: the write lock at once), rolled back if it raises."""
    def run(db: sqlite3.Connection) -> None:
        db.execute("BEGIN IMMEDIATE")
        try:
            work(db)
        except BaseException:
            db.execute("ROLLBACK")
            raise
        db.execute("COMMIT")
    return run


def _alarm(body: bytes) -> Alarm:
    alarm = Alarm.from_record(orjson.loads(body))
    alarm.cached_json = (alarm.revision, body)
    return alarm


class _Connection:
    """One SQLite connection on a thread of its own: its calls never run on the event loop."""

    def __init__(self, path: Path, name: str) -> None:
        self._path = path
        self._executor = ThreadPoolExecutor(1, thread_name_prefix=name)
        self._db: sqlite3.Connection | None = None

    def _connect(self) -> None:
        self._db = sqlite3.connect(self._path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA busy_timeout = 10000")
        self._db.execute("PRAGMA synchronous = NORMAL")   # WAL: a commit survives a crash of the process, not of the OS

    async def run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        def call() -> T:
            if self._db is None:
                self._connect()
            assert self._db is not None
            return job(self._db)

        return await asyncio.get_running_loop().run_in_executor(self._executor, call)

    async def close(self) -> None:
        if self._db is not None:
            await self.run(lambda db: db.close())
            self._db = None
        self._executor.shutdown(wait=True)


class Ledger:
    def __init__(self, path: Path) -> None:
        self.path = path
        self._writer = _Connection(path, "ledger-write")
        # look-ups by id are on the alarm path (a record about a closed alarm): never behind a long page
        self._lookups = _Connection(path, "ledger-lookup")
        self._pages = _Connection(path, "ledger-pages")
        self._outbox: list[OutboxRow] = []
        self._after_commit: list[Callable[[], None]] = []
        self._unsent: list[UnsentRow] = []
        self._sent: list[UnsentKey] = []
        self.resumed = False   # the last restore found offsets: the topics' tail was never committed here

    async def open(self) -> None:
        def create(db: sqlite3.Connection) -> None:
            db.execute("PRAGMA journal_mode = WAL")
            db.executescript(_SCHEMA)

        self.path.parent.mkdir(parents=True, exist_ok=True)
        await self._writer.run(create)

    async def close(self) -> None:
        for connection in (self._writer, self._lookups, self._pages):
            await connection.close()

    # --- writing -----------------------------------------------------------------------------

    def stage_outbox(self, rows: list[OutboxRow], then: Callable[[], None]) -> None:
        """Notifications due: written by the next :meth:`write` with the change that called for them; ``then``
        runs once they are committed (so nothing is sent that a crash could leave unrecorded)."""
        self._outbox += rows
        self._after_commit.append(then)

    def stage_unsent(self, topic: str, run: str, number: int, key: bytes, value: bytes) -> None:
        """A record queued for ``topic``: kept from the next :meth:`write` on until :meth:`stage_sent` names it."""
        self._unsent.append((topic, run, number, key, value))

    def stage_sent(self, topic: str, entries: Iterable[tuple[str, int]]) -> None:
        """Records of ``topic`` (``(run, number)``) Kafka acknowledged: deleted by the next :meth:`write`."""
        self._sent += [(topic, run, number) for run, number in entries]

    @property
    def unsent_staged(self) -> bool:
        """Records queued or acknowledged since the last write: the next write is due even without a change."""
        return bool(self._unsent or self._sent)

    async def write(self, alarms: list[Alarm], events: list[tuple], suppressions: list[Suppression],
                    offsets: Offsets) -> None:
        """One transaction: the changed alarms (serialised here, on the loop), their lifecycle entries, the
        notifications they call for, offsets, the records for other stages queued and acknowledged since."""
        outbox_rows, self._outbox = self._outbox, []
        after_commit, self._after_commit = self._after_commit, []
        unsent_rows, self._unsent = self._unsent, []
        sent_keys, self._sent = self._sent, []
        alarm_rows = [alarm_row(a) for a in alarms]
        suppression_rows = [(s.enterprise, s.point, s.since, s.expires_at, s.reason, s.by) for s in suppressions]
        offset_rows = [(topic, partition, next_offset) for (topic, partition), next_offset in offsets.items()]

        def write(db: sqlite3.Connection) -> None:
            db.executemany(_UPSERT_ALARM, alarm_rows)
            db.executemany("INSERT OR IGNORE INTO alarm_events VALUES (?, ?, ?, ?, ?)", events)
            db.executemany("INSERT OR IGNORE INTO suppressions VALUES (?, ?, ?, ?, ?, ?)", suppression_rows)
            db.executemany(_UPSERT_OFFSET, offset_rows)
            db.executemany("INSERT OR IGNORE INTO outbox VALUES (?, ?, ?, ?, ?)", outbox_rows)
            _write_unsent(db, unsent_rows, sent_keys)

        try:
            await self._writer.run(_in_transaction(write))
        except BaseException:
            self._outbox[:0], self._after_commit[:0] = outbox_rows, after_commit   # due with the next write
            self._unsent[:0], self._sent[:0] = unsent_rows, sent_keys
            raise
        for then in after_commit:
            then()

    async def write_unsent(self) -> None:
        """Only the records for other stages queued and acknowledged since the last write (at a stop, once the
        alarm log no longer writes: what a batch cut short staged besides is made again from its records)."""
        unsent_rows, self._unsent = self._unsent, []
        sent_keys, self._sent = self._sent, []

        if unsent_rows or sent_keys:
            await self._writer.run(_in_transaction(lambda db: _write_unsent(db, unsent_rows, sent_keys)))

    async def unsent(self, topic: str) -> list[tuple[tuple[str, int], bytes, bytes]]:
        """Records of ``topic`` committed and not known acknowledged, in the order they were queued:
        ``((run, number), key, value)``."""
        return await self._pages.run(lambda db: [((run, number), key, value) for run, number, key, value in db.execute(
            "SELECT run, number, key, value FROM unsent WHERE topic = ? ORDER BY rowid", (topic,))])

    async def outbox_done(self, keys: list[OutboxKey]) -> None:
        """Notifications delivered or dead-lettered: no restart sends them again."""
        def delete(db: sqlite3.Connection) -> None:
            db.executemany("DELETE FROM outbox WHERE alarm_id = ? AND revision = ? AND channel = ?", keys)

        if keys:
            await self._writer.run(delete)

    async def outbox(self) -> list[OutboxRow]:
        """Notifications committed and not yet delivered, oldest first (what a crash left due)."""
        return await self._pages.run(lambda db: list(db.execute(
            "SELECT alarm_id, revision, channel, enterprise, change FROM outbox ORDER BY rowid")))

    # --- reading -----------------------------------------------------------------------------

    async def restore(self) -> Snapshot:
        def load(db: sqlite3.Connection) -> Snapshot:
            alarms = [_alarm(body) for (body,) in db.execute("SELECT body FROM alarms WHERE closed = 0")]
            suppressions = [Suppression(e, p, reason, by, since, expires) for e, p, since, expires, reason, by in db.execute(
                "SELECT enterprise, point, max(since), expires_at, reason, by FROM suppressions GROUP BY enterprise, point")]
            offsets = {(topic, partition): next_offset
                       for topic, partition, next_offset in db.execute("SELECT topic, partition, next FROM offsets")}
            return Snapshot(alarms, suppressions, offsets)

        snapshot = await self._pages.run(load)
        self.resumed = bool(snapshot.offsets)
        return snapshot

    async def alarms(self, ids: Iterable[str]) -> list[Alarm]:
        wanted = list(ids)

        def load(db: sqlite3.Connection) -> list[Alarm]:
            found: list[Alarm] = []
            for start in range(0, len(wanted), 500):
                chunk = wanted[start:start + 500]
                found += [_alarm(body) for (body,) in db.execute(
                    f"SELECT body FROM alarms WHERE id IN ({','.join('?' * len(chunk))})", chunk)]
            return found

        return await self._lookups.run(load) if wanted else []

    async def alarm(self, alarm_id: str) -> Alarm | None:
        found = await self.alarms([alarm_id])
        return found[0] if found else None

    async def history(self, alarm_id: str) -> list[dict]:
        """The alarm's lifecycle, oldest first: ``{"ts", "kind", "by", ...what the change said}``."""
        def load(db: sqlite3.Connection) -> list[dict]:
            return [{"ts": ts, "kind": kind, "by": by, **orjson.loads(detail)} for ts, kind, by, detail in db.execute(
                "SELECT ts, kind, by, detail FROM alarm_events WHERE alarm_id = ? ORDER BY ts, kind", (alarm_id,))]

        return await self._pages.run(load)

    async def closed_page(self, enterprise: str | None, since: int | None, before: PageKey | None,
                          limit: int) -> list[Alarm]:
        """Closed alarms, newest first (by ``started_at``, then id), strictly after the cursor ``before``."""
        where: list[str] = ["closed = 1"]
        args: list[str | int] = []
        if enterprise is not None:
            where.append("enterprise = ?")
            args.append(enterprise)
        if since is not None:
            where.append("started_at >= ?")
            args.append(since)
        if before is not None:
            where.append("(started_at, id) < (?, ?)")
            args += list(before)
        query = (f"SELECT body FROM alarms WHERE {' AND '.join(where)} "
                 f"ORDER BY started_at DESC, id DESC LIMIT {int(limit)}")
        return await self._pages.run(lambda db: [_alarm(body) for (body,) in db.execute(query, args)])
