"""The duty desk's officer accounts and sign-in sessions, kept in the desk's SQLite file beside the alarm ledger.

Roles (issue 17): ``duty`` sees every enterprise and acts (签收, 处置反馈, 屏蔽); ``town`` sees and acts
on the enterprises of its town (属地); ``enterprise`` sees and acts on its own enterprise only;
``prefecture`` sees everything and acts on nothing. Passwords are hashed with Argon2id
(argon2-cffi, its default parameters, rehashed when those change); a session is a random token
whose SHA-256 alone is stored, with its own CSRF token, ending after ``desk_session_h`` or when
the account is disabled or its password changed. Every call is blocking SQLite or Argon2 work:
the web layer runs them in a thread.
"""

from __future__ import annotations

import hashlib
import re
import secrets
import sqlite3
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError


DeskRole = Literal["duty", "town", "enterprise", "prefecture"]
ROLES: tuple[DeskRole, ...] = ("duty", "town", "enterprise", "prefecture")
NAME = re.compile(r"[A-Za-z0-9_.-]{2,32}")
MIN_PASSWORD = 8

_SCHEMA = """
CREATE TABLE IF NOT EXISTS account (
    name TEXT PRIMARY KEY, display_name TEXT NOT NULL, role TEXT NOT NULL,
    enterprise TEXT, town TEXT, password_hash TEXT NOT NULL,
    disabled INTEGER NOT NULL DEFAULT 0, created_ms INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS session (
    token_sha256 TEXT PRIMARY KEY, name TEXT NOT NULL REFERENCES account(name),
    csrf TEXT NOT NULL, created_ms INTEGER NOT NULL, expires_ms INTEGER NOT NULL);
CREATE INDEX IF NOT EXISTS session_by_name ON session(name);
"""


class AccountError(ValueError):
    """An account the desk refuses to make or change; the message says why, in both languages."""


@dataclass(frozen=True)
class Account:
    name: str
    display_name: str
    role: DeskRole
    enterprise: str | None = None
    town: str | None = None
    disabled: bool = False

    @property
    def acts(self) -> bool:
        """Whether the account may act on alarms it sees (the prefecture only watches)."""
        return self.role != "prefecture"


@dataclass(frozen=True)
class Session:
    account: Account
    csrf: str
    expires_ms: int


def _sha256(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _now_ms() -> int:
    return time.time_ns() // 1_000_000


class Accounts:
    """Accounts and sessions in one SQLite file (created on first use)."""

    def __init__(self, path: Path, session_h: float = 12.0) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        self._db = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(_SCHEMA)
        self._hasher = PasswordHasher()
        self._dummy_hash = self._hasher.hash(secrets.token_hex(8))   # a miss costs what a hit costs
        self.session_ms = int(session_h * 3_600_000)

    def close(self) -> None:
        self._db.close()

    # --- accounts ---------------------------------------------------------------------------------
    def add(self, name: str, role: str, password: str, display_name: str | None = None,
            enterprise: str | None = None, town: str | None = None) -> Account:
        if not NAME.fullmatch(name):
            raise AccountError(f"账号名须为 2–32 个字母、数字或 _.- (account name: 2–32 of A–Z a–z 0–9 _ . -): {name!r}")
        if role not in ROLES:
            raise AccountError(f"角色须为 {'/'.join(ROLES)} 之一 (role must be one of them): {role!r}")
        if (role == "enterprise") != (enterprise is not None):
            raise AccountError("企业账号须且只有企业账号须指定企业 (--enterprise goes with role enterprise, and only with it)")
        if (role == "town") != (town is not None):
            raise AccountError("乡镇账号须且只有乡镇账号须指定乡镇 (--town goes with role town, and only with it)")
        self._check_password(password)
        try:
            self._db.execute("INSERT INTO account VALUES (?, ?, ?, ?, ?, ?, 0, ?)",
                             (name, display_name or name, role, enterprise, town, self._hasher.hash(password), _now_ms()))
        except sqlite3.IntegrityError:
            raise AccountError(f"账号已存在 (account exists): {name}") from None
        return Account(name, display_name or name, role, enterprise, town)  # type: ignore[arg-type]

    def get(self, name: str) -> Account | None:
        row = self._db.execute("SELECT name, display_name, role, enterprise, town, disabled FROM account WHERE name = ?",
                               (name,)).fetchone()
        return None if row is None else Account(row[0], row[1], row[2], row[3], row[4], bool(row[5]))

    def all(self) -> list[Account]:
        rows = self._db.execute("SELECT name, display_name, role, enterprise, town, disabled FROM account ORDER BY name")
        return [Account(r[0], r[1], r[2], r[3], r[4], bool(r[5])) for r in rows]

    def set_password(self, name: str, password: str) -> None:
        """A new password; every session of the account ends (a leaked one no longer works)."""
        self._check_password(password)
        self._update(name, "UPDATE account SET password_hash = ? WHERE name = ?", (self._hasher.hash(password), name))

    def disable(self, name: str) -> None:
        self._update(name, "UPDATE account SET disabled = 1 WHERE name = ?", (name,))

    def _update(self, name: str, sql: str, values: tuple) -> None:
        with self._db:
            self._db.execute("BEGIN")
            if self._db.execute(sql, values).rowcount == 0:
                raise AccountError(f"无此账号 (no such account): {name}")
            self._db.execute("DELETE FROM session WHERE name = ?", (name,))

    @staticmethod
    def _check_password(password: str) -> None:
        if len(password) < MIN_PASSWORD:
            raise AccountError(f"密码至少 {MIN_PASSWORD} 位 (password: at least {MIN_PASSWORD} characters)")

    # --- sign-in and sessions ---------------------------------------------------------------------
    def verify(self, name: str, password: str) -> Account | None:
        """The account if ``password`` is its own and it is enabled; else None, after the same work."""
        row = self._db.execute("SELECT password_hash FROM account WHERE name = ?", (name,)).fetchone()
        stored = row[0] if row is not None else self._dummy_hash
        try:
            self._hasher.verify(stored, password)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return None
        account = self.get(name)
        if account is None or account.disabled:
            return None
        if self._hasher.check_needs_rehash(stored):
            self._db.execute("UPDATE account SET password_hash = ? WHERE name = ?", (self._hasher.hash(password), name))
        return account

    def open_session(self, account: Account) -> tuple[str, Session]:
        """A new session: the token for the cookie (never stored) and the session it opens."""
        token, csrf, now = secrets.token_urlsafe(32), secrets.token_urlsafe(24), _now_ms()
        self._db.execute("INSERT INTO session VALUES (?, ?, ?, ?, ?)",
                         (_sha256(token), account.name, csrf, now, now + self.session_ms))
        return token, Session(account, csrf, now + self.session_ms)

    def session(self, token: str) -> Session | None:
        """The live session of ``token``: unknown, expired or of a disabled account is None."""
        row = self._db.execute("SELECT name, csrf, expires_ms FROM session WHERE token_sha256 = ?",
                               (_sha256(token),)).fetchone()
        if row is None or row[2] <= _now_ms():
            return None
        account = self.get(row[0])
        return None if account is None or account.disabled else Session(account, row[1], row[2])

    def close_session(self, token: str) -> None:
        self._db.execute("DELETE FROM session WHERE token_sha256 = ?", (_sha256(token),))

    def forget_expired(self) -> int:
        return self._db.execute("DELETE FROM session WHERE expires_ms <= ?", (_now_ms(),)).rowcount
