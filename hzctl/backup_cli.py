"""``hazmon backup DIR`` and ``hazmon restore DIR`` (hzctl/backup.py, docs/operations.md)."""

from __future__ import annotations

import argparse
import contextlib
import urllib.error
from collections.abc import Iterator
from pathlib import Path

from hazmon.errors import UserError
from hazmon.settings import get_settings


def _backup(args: argparse.Namespace) -> int:
    from hzctl.backup import backup

    with _servers_answer():
        backup(get_settings(), args.dir, with_influx=args.influx)
    return 0


def _restore(args: argparse.Namespace) -> int:
    from hzctl.backup import restore

    with _servers_answer():
        restore(get_settings(), args.dir, force=args.force, with_influx=args.influx)
    return 0


@contextlib.contextmanager
def _servers_answer() -> Iterator[None]:
    """Kafka or InfluxDB not answering (a wrong address, a server down) told in a line, not a traceback."""
    from aiokafka.errors import KafkaConnectionError

    settings = get_settings()
    try:
        yield
    except KafkaConnectionError as down:
        raise UserError(f"Kafka at {settings.kafka_bootstrap} does not answer ({down}): is it up, "
                        "and HAZMON_KAFKA_BOOTSTRAP right?") from None
    except urllib.error.URLError as down:
        raise UserError(f"InfluxDB at {settings.influx_url} does not answer ({down.reason}): is it up, "
                        "and HAZMON_INFLUX_URL right?") from None


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("dir", type=Path)
    parser.add_argument("--no-influx", dest="influx", action="store_false",
                        help="leave InfluxDB out (a docker-compose deployment backs it up in its container)")


def register(subparsers: argparse._SubParsersAction) -> None:
    save = subparsers.add_parser("backup", help="back up secrets, registry, desk accounts, the alarm record and "
                                                "InfluxDB into a new directory")
    _common(save)
    save.set_defaults(handler=_backup)
    load = subparsers.add_parser("restore", help="restore a backup into this installation (refused over data "
                                                 "unless --force)")
    _common(load)
    load.add_argument("--force", action="store_true",
                      help="replace what this installation holds (files, the alarm topics' records, the database)")
    load.set_defaults(handler=_restore)
