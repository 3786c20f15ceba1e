"""交接班: the outgoing officer hands the open items over with a note, the incoming officer signs for them.

A handover lists the alarms open at that moment (ids; the desk shows them by name) and the 待反馈
ones; it waits until another account of the desk signs it (签收交接). Kept in the desk's SQLite
file beside the accounts; blocking calls, run in a thread by the web layer.
"""

from __future__ import annotations

import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path

_SCHEMA = """
CREATE TABLE IF NOT EXISTS handover (
    id INTEGER PRIMARY KEY AUTOINCREMENT, given_by TEXT NOT NULL, given_at INTEGER NOT NULL, note TEXT NOT NULL,
    open_alarms TEXT NOT NULL, taken_by TEXT, taken_at INTEGER);
"""
MAX_NOTE = 4000


class HandoverRefused(ValueError):
    """A handover the desk does not take; the message says why, in both languages."""


@dataclass(frozen=True)
class Handover:
    id: int
    given_by: str
    given_at: int
    note: str
    open_alarms: list[str]
    taken_by: str | None = None
    taken_at: int | None = None


class Handovers:
    def __init__(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)

    def close(self) -> None:
        self._db.close()

    def give(self, officer: str, note: str, open_alarms: list[str], now_ms: int) -> Handover:
        note = note.strip()
        if not note or len(note) > MAX_NOTE:
            raise HandoverRefused(f"交接说明须为 1–{MAX_NOTE} 字 (the note: 1–{MAX_NOTE} characters)")
        if self.pending() is not None:
            raise HandoverRefused("上一班的交接尚未签收 (the previous handover is not signed yet)")
        now = now_ms
        cursor = self._db.execute("INSERT INTO handover (given_by, given_at, note, open_alarms) VALUES (?, ?, ?, ?)",
                                  (officer, now, note, json.dumps(open_alarms)))
        return Handover(int(cursor.lastrowid or 0), officer, now, note, open_alarms)

    def take(self, handover_id: int, officer: str, now_ms: int) -> Handover:
        pending = self.pending()
        if pending is None or pending.id != handover_id:
            raise HandoverRefused("没有待签收的这次交接 (no such handover waiting)")
        if pending.given_by == officer:
            raise HandoverRefused("交班人不能自己接班 (the outgoing officer cannot sign their own handover)")
        now = now_ms
        self._db.execute("UPDATE handover SET taken_by = ?, taken_at = ? WHERE id = ?", (officer, now, handover_id))
        return Handover(pending.id, pending.given_by, pending.given_at, pending.note, pending.open_alarms, officer, now)

    def pending(self) -> Handover | None:
        rows = self._select("WHERE taken_at IS NULL ORDER BY id DESC LIMIT 1", ())
        return rows[0] if rows else None

    def between(self, start_ms: int, end_ms: int) -> list[Handover]:
        """The handovers given in ``[start_ms, end_ms)``, oldest first (the daily report's)."""
        return self._select("WHERE given_at >= ? AND given_at < ? ORDER BY id", (start_ms, end_ms))

    def _select(self, where: str, values: tuple) -> list[Handover]:
        rows = self._db.execute(f"SELECT id, given_by, given_at, note, open_alarms, taken_by, taken_at FROM handover {where}",
                                values)
        return [Handover(r[0], r[1], r[2], r[3], json.loads(r[4]), r[5], r[6]) for r in rows]
