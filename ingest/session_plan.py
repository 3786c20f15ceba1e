"""Which broker sessions an adapter process holds, and which enterprises each one reads.

Every session has a queue of its own at the broker. With one session for every enterprise (the
old design), one enterprise's flood queued in front of everyone else's messages and, once the
queue was full, pushed them out (bench/abuse.py: alarms 40 s late, 6 690 readings lost). So by
default each enterprise has a session of its own (``ingest_session_shards`` 0): its backlog fills
only its own queue, and the session can simply not be read while the enterprise is over its rate.
A province's thousands of enterprises would be thousands of connections per process: with
``ingest_session_shards`` N they are spread over N sessions by a stable hash of their id (an
enterprise added to the registry never moves another), and an enterprise over its rate is then
refused instead of paused, not to hold up the others of its shard.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class SessionPlan:
    name: str                    # the end of the session's client id
    enterprises: frozenset[str]  # whose topics it subscribes to
    exclusive: bool              # one enterprise's own: paused, not refused, over that enterprise's rate


def plan_sessions(enterprises: Iterable[str], shards: int) -> dict[str, SessionPlan]:
    """Session name → plan: one per enterprise (``shards`` 0) or per non-empty shard of ``shards``."""
    if not shards:
        return {f"e-{e}": SessionPlan(f"e-{e}", frozenset({e}), True) for e in enterprises}
    members: dict[str, set[str]] = {}
    for enterprise in enterprises:
        members.setdefault(f"s{zlib.crc32(enterprise.encode()) % shards}-{shards}", set()).add(enterprise)
    return {name: SessionPlan(name, frozenset(group), False) for name, group in members.items()}
