"""The prefecture's record of its counties (SQLite, WAL): every version of every county's alarm, the highest
one as the alarm's current state, each county's latest heartbeat, registry summary and enterprise colours,
and the prefecture officers' actions waiting to go down (docs/uplink.md).

Keyed by ``(county, alarm id)``: alarm ids are the county's own. A version is recorded once (primary key
``(county, id, version)``: a repeat from the county's store and forward changes nothing and is counted
as a repeat), and the current alarm is replaced only by a higher version, so the record never goes back.
An enterprise's colour has no version: the record keeps the one its county sent last (messages of a topic
arrive in the order the county published them, a repeat among them only before what followed it), so the
county's full round every 5 minutes sets every colour right, whatever time each colour was stamped with.
A county's message is applied in the same transaction as the rest of its batch, and the batch is
acknowledged to the broker only after that commit: a crash before it gets the batch again.

An officer's action is written here first (``actions``, one ``ack`` per alarm) and marked sent once the
prefecture's broker acknowledged it on ``down/{county}/action``, so an action taken while the broker is
away goes down when it is back. SQLite runs on one thread of its own, never on the event loop.
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

from hazmon.exchange import DownAction

T = TypeVar("T")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS alarms (
    county TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, enterprise TEXT NOT NULL, state TEXT NOT NULL,
    escalated_to TEXT NOT NULL, changed_at INTEGER NOT NULL, received_at INTEGER NOT NULL,
    body BLOB NOT NULL,   -- the §11 message of the highest version: the alarm as the county's API shows it
    PRIMARY KEY (county, id));
CREATE INDEX IF NOT EXISTS alarms_newest ON alarms (changed_at DESC);
CREATE TABLE IF NOT EXISTS versions (
    county TEXT NOT NULL, id TEXT NOT NULL, version INTEGER NOT NULL, change TEXT NOT NULL, changed_at INTEGER NOT NULL,
    changed_by TEXT, received_at INTEGER NOT NULL, PRIMARY KEY (county, id, version)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS counties (
    county TEXT PRIMARY KEY, heartbeat_at INTEGER, heartbeat BLOB, registry_at INTEGER, registry BLOB);
CREATE TABLE IF NOT EXISTS risk (
    county TEXT NOT NULL, enterprise TEXT NOT NULL, level INTEGER NOT NULL, color TEXT NOT NULL,
    active_alarms INTEGER NOT NULL, ts INTEGER NOT NULL, PRIMARY KEY (county, enterprise)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS actions (
    id TEXT PRIMARY KEY, county TEXT NOT NULL, alarm TEXT NOT NULL, action TEXT NOT NULL, by TEXT NOT NULL,
    comment TEXT NOT NULL, ts INTEGER NOT NULL, sent_at INTEGER, UNIQUE (county, alarm, action));
"""
_NEW_VERSION = """
INSERT INTO versions (county, id, version, change, changed_at, changed_by, received_at) VALUES (?, ?, ?, ?, ?, ?, ?)
ON CONFLICT DO NOTHING"""
_HIGHER_VERSION = """
INSERT INTO alarms (county, id, version, enterprise, state, escalated_to, changed_at, received_at, body)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (county, id) DO UPDATE SET version = excluded.version, enterprise = excluded.enterprise,
    state = excluded.state, escalated_to = excluded.escalated_to, changed_at = excluded.changed_at,
    received_at = excluded.received_at, body = excluded.body
WHERE excluded.version > alarms.version"""
# a colour carries no version (§11): the county's last word is its colour, whatever its time (docs/uplink.md)
_LAST_RISK = """
INSERT INTO risk (county, enterprise, level, color, active_alarms, ts) VALUES (?, ?, ?, ?, ?, ?)
ON CONFLICT (county, enterprise) DO UPDATE SET level = excluded.level, color = excluded.color,
    active_alarms = excluded.active_alarms, ts = excluded.ts"""
_HEARTBEAT = """
INSERT INTO counties (county, heartbeat_at, heartbeat) VALUES (?, ?, ?)
ON CONFLICT (county) DO UPDATE SET heartbeat_at = excluded.heartbeat_at, heartbeat = excluded.heartbeat
WHERE counties.heartbeat_at IS NULL OR excluded.heartbeat_at >= counties.heartbeat_at"""
_REGISTRY = """
INSERT INTO counties (county, registry_at, registry) VALUES (?, ?, ?)
ON CONFLICT (county) DO UPDATE SET registry_at = excluded.registry_at, registry = excluded.registry
WHERE counties.registry_at IS NULL OR excluded.registry_at >= counties.registry_at"""


@dataclass(slots=True)
class UpBatch:
    """What one batch of a county's up messages (already checked) brings to the record."""

    alarms: list[tuple[str, dict]] = field(default_factory=list)        # (county, §11 alarm message)
    risk: list[tuple[str, dict]] = field(default_factory=list)
    heartbeats: list[tuple[str, dict]] = field(default_factory=list)
    registries: list[tuple[str, dict]] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Recorded:
    versions: int   # new versions recorded
    repeats: int    # versions the record already had


@dataclass(frozen=True, slots=True)
class Action:
    """A prefecture officer's action on a county's alarm: the county it goes down to and the §11 body it goes
    down as (``down/{county}/action``)."""

    county: str
    down: DownAction

    def message(self) -> bytes:
        return orjson.dumps(self.down)


def down_action(action_id: str, alarm: str, action: str, by: str, comment: str, ts: int, enterprise: str) -> DownAction:
    return {"v": 1, "id": action_id, "alarm": alarm, "action": action, "by": by, "comment": comment, "ts": ts,
            "enterprise": enterprise}


class ActionRefused(Exception):
    """An officer's action the record does not take: ``code`` (for the API) and a message."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class CountyRecord:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        self._thread = ThreadPoolExecutor(max_workers=1, thread_name_prefix="prefecture-record")
        self._db = self._thread.submit(self._open).result()

    def _open(self) -> sqlite3.Connection:
        db = sqlite3.connect(self.path, isolation_level=None)
        db.execute("PRAGMA journal_mode=WAL")
        db.execute("PRAGMA synchronous=NORMAL")
        db.executescript(_SCHEMA)
        return db

    async def _run(self, job: Callable[[sqlite3.Connection], T]) -> T:
        return await asyncio.get_running_loop().run_in_executor(self._thread, job, self._db)

    def close(self) -> None:
        self._thread.submit(self._db.close).result()
        self._thread.shutdown()

    async def record(self, batch: UpBatch, received_at: int) -> Recorded:
        """Apply a batch in one transaction."""
        return await self._run(lambda db: self._record(db, batch, received_at))

    @staticmethod
    def _record(db: sqlite3.Connection, batch: UpBatch, received_at: int) -> Recorded:
        versions = repeats = 0
        with db:
            db.execute("BEGIN")
            for county, alarm in batch.alarms:
                new = db.execute(_NEW_VERSION, (county, alarm["id"], alarm["version"], alarm["change"],
                                                alarm["changed_at"], alarm.get("changed_by"), received_at)).rowcount
                versions += new
                repeats += 1 - new
                db.execute(_HIGHER_VERSION, (county, alarm["id"], alarm["version"], alarm["enterprise"], alarm["state"],
                                             alarm["escalated_to"], alarm["changed_at"], received_at, orjson.dumps(alarm)))
            db.executemany(_LAST_RISK, [(county, r["enterprise"], r["level"], r["color"], r["active_alarms"], r["ts"])
                                         for county, r in batch.risk])
            db.executemany(_HEARTBEAT, [(county, h["ts"], orjson.dumps(h)) for county, h in batch.heartbeats])
            db.executemany(_REGISTRY, [(county, r["ts"], orjson.dumps(r)) for county, r in batch.registries])
        return Recorded(versions, repeats)

    async def alarm(self, county: str, alarm_id: str) -> dict | None:
        """The alarm at its highest version, with ``versions``: every version recorded, oldest first."""
        def read(db: sqlite3.Connection) -> dict | None:
            row = db.execute("SELECT body FROM alarms WHERE county = ? AND id = ?", (county, alarm_id)).fetchone()
            if row is None:
                return None
            alarm = orjson.loads(row[0])
            alarm["versions"] = [
                {"version": v, "change": c, "changed_at": at, "changed_by": by, "received_at": received}
                for v, c, at, by, received in db.execute(
                    "SELECT version, change, changed_at, changed_by, received_at FROM versions"
                    " WHERE county = ? AND id = ? ORDER BY version", (county, alarm_id))]
            return alarm
        return await self._run(read)

    async def alarms(self, county: str | None = None, open_only: bool = False, limit: int = 200) -> list[dict]:
        """The newest alarms first, of one county or all."""
        where, args = ["1"], []
        if county is not None:
            where.append("county = ?")
            args.append(county)
        if open_only:
            where.append("state != 'closed'")
        query = f"SELECT body FROM alarms WHERE {' AND '.join(where)} ORDER BY changed_at DESC LIMIT ?"  # noqa: S608 - fixed clauses
        return await self._run(lambda db: [orjson.loads(body) for (body,) in db.execute(query, (*args, limit))])

    async def versions(self, county: str) -> dict[str, list[int]]:
        """Per alarm of a county, the versions recorded (each once, in order)."""
        def read(db: sqlite3.Connection) -> dict[str, list[int]]:
            found: dict[str, list[int]] = {}
            for alarm_id, version in db.execute("SELECT id, version FROM versions WHERE county = ? ORDER BY id, version",
                                                (county,)):
                found.setdefault(alarm_id, []).append(version)
            return found
        return await self._run(read)

    async def received_at(self, county: str, version: int = 1) -> dict[str, int]:
        """When each alarm of a county reached the record at ``version`` (milliseconds since the epoch)."""
        return await self._run(lambda db: dict(db.execute(
            "SELECT id, received_at FROM versions WHERE county = ? AND version = ?", (county, version)).fetchall()))

    async def counties(self) -> dict[str, dict]:
        """Per county: the latest heartbeat, the registry's time, open alarms, those escalated to the prefecture."""
        def read(db: sqlite3.Connection) -> dict[str, dict]:
            found: dict[str, dict] = {}
            for county, beat_at, beat, registry_at in db.execute(
                    "SELECT county, heartbeat_at, heartbeat, registry_at FROM counties"):
                found[county] = {"heartbeat_at": beat_at, "heartbeat": orjson.loads(beat) if beat else None,
                                 "registry_at": registry_at, "open_alarms": 0, "escalated_to_prefecture": 0}
            for county, open_alarms, escalated in db.execute(
                    "SELECT county, count(*), sum(escalated_to = 'prefecture') FROM alarms"
                    " WHERE state != 'closed' GROUP BY county"):
                entry = found.setdefault(county, {"heartbeat_at": None, "heartbeat": None, "registry_at": None})
                entry.update({"open_alarms": open_alarms, "escalated_to_prefecture": escalated or 0})
            return found
        return await self._run(read)

    async def registry(self, county: str) -> dict | None:
        """The county's latest registry summary (§11 ``up/{county}/registry``), or None before its first."""
        def read(db: sqlite3.Connection) -> dict | None:
            row = db.execute("SELECT registry FROM counties WHERE county = ?", (county,)).fetchone()
            return None if row is None or row[0] is None else orjson.loads(row[0])
        return await self._run(read)

    async def alarms_changed_since(self, county: str, since_ms: int) -> list[dict]:
        """The county's alarms not cleared nor closed, and those whose latest change is at or after ``since_ms``
        (every alarm started since is among them): what the county's figures are computed from."""
        return await self._run(lambda db: [orjson.loads(body) for (body,) in db.execute(
            "SELECT body FROM alarms WHERE county = ? AND (changed_at >= ? OR state IN ('active', 'acknowledged'))",
            (county, since_ms))])

    async def escalated_open(self, limit: int = 500) -> list[tuple[str, dict, dict | None]]:
        """Every county's alarms escalated to the prefecture and not closed, newest change first: (county, the
        alarm, the prefecture's own 签收 of it as ``{"by", "ts", "sent_at"}`` or None)."""
        def read(db: sqlite3.Connection) -> list[tuple[str, dict, dict | None]]:
            rows = db.execute(
                "SELECT a.county, a.body, x.by, x.ts, x.sent_at FROM alarms a LEFT JOIN actions x"
                " ON x.county = a.county AND x.alarm = a.id AND x.action = 'ack'"
                " WHERE a.escalated_to = 'prefecture' AND a.state != 'closed' ORDER BY a.changed_at DESC LIMIT ?",
                (limit,)).fetchall()
            return [(county, orjson.loads(body), None if by is None else {"by": by, "ts": ts, "sent_at": sent})
                    for county, body, by, ts, sent in rows]
        return await self._run(read)

    async def risk(self, county: str) -> list[dict]:
        return await self._run(lambda db: [
            {"enterprise": e, "level": level, "color": color, "active_alarms": active, "ts": ts}
            for e, level, color, active, ts in db.execute(
                "SELECT enterprise, level, color, active_alarms, ts FROM risk WHERE county = ? ORDER BY enterprise",
                (county,))])

    async def take_ack(self, action_id: str, county: str, alarm_id: str, by: str, comment: str, now_ms: int) -> Action:
        """Record an officer's 签收 of a county's alarm escalated to the prefecture, to be sent down; ActionRefused
        for an alarm the record does not have, one not escalated to the prefecture, one closed, or one signed."""
        def take(db: sqlite3.Connection) -> Action:
            with db:
                db.execute("BEGIN IMMEDIATE")
                row = db.execute("SELECT body FROM alarms WHERE county = ? AND id = ?", (county, alarm_id)).fetchone()
                if row is None:
                    raise ActionRefused("unknown_alarm", f"no alarm {alarm_id} of county {county} in the record")
                alarm = orjson.loads(row[0])
                if alarm["escalated_to"] != "prefecture":
                    raise ActionRefused("not_escalated", "the alarm is not escalated to the prefecture")
                if alarm["state"] == "closed":
                    raise ActionRefused("closed", "the alarm is closed")
                signed = db.execute("SELECT by FROM actions WHERE county = ? AND alarm = ? AND action = 'ack'",
                                    (county, alarm_id)).fetchone()
                if alarm.get("acked_by") is not None or signed is not None:
                    raise ActionRefused("already_acknowledged", "the alarm is already signed for")
                db.execute("INSERT INTO actions (id, county, alarm, action, by, comment, ts) VALUES (?, ?, ?, ?, ?, ?, ?)",
                           (action_id, county, alarm_id, "ack", by, comment, now_ms))
                return Action(county, down_action(action_id, alarm_id, "ack", by, comment, now_ms, alarm["enterprise"]))
        return await self._run(take)

    async def unsent(self) -> list[Action]:
        """The officers' actions not yet acknowledged by the broker, oldest first."""
        def read(db: sqlite3.Connection) -> list[Action]:
            rows = db.execute("SELECT a.county, a.id, a.alarm, a.action, a.by, a.comment, a.ts, coalesce(m.enterprise, '')"
                              " FROM actions a LEFT JOIN alarms m ON m.county = a.county AND m.id = a.alarm"
                              " WHERE a.sent_at IS NULL ORDER BY a.ts, a.id").fetchall()
            return [Action(county, down_action(*fields)) for county, *fields in rows]
        return await self._run(read)

    async def mark_sent(self, action_ids: Iterable[str], at_ms: int) -> None:
        ids = [(at_ms, action_id) for action_id in action_ids]
        await self._run(lambda db: db.executemany("UPDATE actions SET sent_at = ? WHERE id = ?", ids))

    async def actions(self, county: str, alarm_id: str) -> list[dict]:
        return await self._run(lambda db: [
            {"id": i, "action": a, "by": by, "comment": c, "ts": ts, "sent_at": sent}
            for i, a, by, c, ts, sent in db.execute(
                "SELECT id, action, by, comment, ts, sent_at FROM actions WHERE county = ? AND alarm = ? ORDER BY ts",
                (county, alarm_id))])
