"""Mosquitto's start: its shared subscriptions put back into its persistence file, then Mosquitto itself.

``python -m hzctl.stack.mosquitto_start DB MOSQUITTO ARGS...`` is the command the stack runs for the
broker (``hzctl.stack.mosquitto.Mosquitto.argv``), so a service manager that restarts it with the same
command gets this too. Mosquitto 2.0 keeps a persistent session's plain subscriptions in ``DB`` but
not its shared ones; each session that needs one back also holds a plain subscription that records
it (``hazmon.mqtt_kept``). Before Mosquitto reads the file, every recorded shared subscription of a
session is added to it (a subscription chunk of the same client, QoS and options), so the broker
starts with the sessions subscribed as they were, and what devices publish before ingest is back
waits in its queues. Then this process becomes Mosquitto (``exec``: the same PID, its signals).

The file format is Mosquitto's version 6 (``src/persist.h``: a 15-byte magic, a CRC that is not
checked, the version; then chunks of a type and a length, big-endian). A file of another version,
or one that does not parse, is left as it is, and Mosquitto starts on it all the same.
"""

from __future__ import annotations

import os
import struct
import sys
from pathlib import Path

from hazmon.mqtt_kept import recorded

MAGIC = b"\x00\xb5\x00mosquitto db"
VERSION = 6
HEADER = struct.Struct("!II")            # chunk type, length of what follows
SUB = struct.Struct("!IHHBB2x")          # subscription identifier, client id length, topic length, QoS, options
CHUNK_SUB = 5


def subscription(client_id: bytes, topic: bytes, identifier: int, qos: int, options: int) -> bytes:
    """One subscription chunk, as Mosquitto writes it."""
    body = SUB.pack(identifier, len(client_id), len(topic), qos, options) + client_id + topic
    return HEADER.pack(CHUNK_SUB, len(body)) + body


def with_shared_subscriptions(db: bytes) -> tuple[bytes, int]:
    """``db`` with the shared subscription of every record in it that it lacks, and how many were
    added; ``db`` as it is if it is not a file of the format known here."""
    start = len(MAGIC) + 8
    if len(db) < start or db[:len(MAGIC)] != MAGIC or struct.unpack_from("!I", db, len(MAGIC) + 4)[0] != VERSION:
        return db, 0
    held: set[tuple[bytes, bytes]] = set()
    wanted: dict[tuple[bytes, bytes], tuple[int, int, int]] = {}
    offset = start
    while offset < len(db):
        if offset + HEADER.size > len(db):
            return db, 0
        kind, length = HEADER.unpack_from(db, offset)
        body = offset + HEADER.size
        if body + length > len(db):
            return db, 0
        if kind == CHUNK_SUB:
            identifier, id_len, topic_len, qos, options = SUB.unpack_from(db, body)
            client_id = db[body + SUB.size:body + SUB.size + id_len]
            topic = db[body + SUB.size + id_len:body + SUB.size + id_len + topic_len]
            held.add((client_id, topic))
            shared = recorded(topic.decode(errors="replace"))
            if shared is not None:
                wanted[(client_id, shared.encode())] = (identifier, qos, options)
        offset = body + length
    missing = sorted(wanted.keys() - held)
    return db + b"".join(subscription(c, t, *wanted[(c, t)]) for c, t in missing), len(missing)


def restore_shared_subscriptions(path: Path) -> int:
    """Add the recorded shared subscriptions to the persistence file at ``path`` (a new file of the
    same owner and mode, renamed over it); returns how many were added."""
    try:
        db = path.read_bytes()
    except FileNotFoundError:
        return 0
    updated, added = with_shared_subscriptions(db)
    if not added:
        return 0
    staging = path.with_name(path.name + ".hazmon")
    fd = os.open(staging, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as handle:
        handle.write(updated)
        handle.flush()
        os.fsync(handle.fileno())
    stat = path.stat()
    os.chown(staging, stat.st_uid, stat.st_gid)
    os.chmod(staging, stat.st_mode & 0o7777)
    os.replace(staging, path)
    return added


def main(argv: list[str]) -> None:
    """``DB MOSQUITTO ARGS...``: restore, then become Mosquitto."""
    db, command = Path(argv[0]), argv[1:]
    added = restore_shared_subscriptions(db)
    if added:
        print(f"hazmon: {added} shared subscriptions of persistent sessions put back into {db}", flush=True)
    os.execvp(command[0], command)   # a bare name (the image's `mosquitto`) is looked up on PATH


if __name__ == "__main__":
    main(sys.argv[1:])
