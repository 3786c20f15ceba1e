"""``hazmon influx backup DIR | restore DIR``: portable backups of the platform's InfluxDB database
with the ``influxd`` the local stack built (docs/operations.md)."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from hazmon.settings import get_settings
from hzctl.stack.influxdb import BackupError, backup, restore


def _run(args: argparse.Namespace) -> int:
    settings = get_settings()
    database = args.database or settings.influx_db
    try:
        if args.influx_command == "backup":
            backup(settings, args.dir, database)
            print(f"database {database} backed up into {args.dir}")
        else:
            restore(settings, args.dir, database)
            print(f"{args.dir} restored as database {database}")
    except BackupError as exc:
        print(exc, file=sys.stderr)
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("influx", help="back up and restore the InfluxDB database")
    sub = parser.add_subparsers(dest="influx_command", required=True)
    save = sub.add_parser("backup", help="portable backup of the database (data and retention policies) into DIR")
    save.add_argument("dir", type=Path)
    save.add_argument("--database", help="database to back up (default: settings.influx_db)")
    save.set_defaults(handler=_run)
    load = sub.add_parser("restore", help="restore a backup from DIR into a database that does not exist yet")
    load.add_argument("dir", type=Path)
    load.add_argument("--as", dest="database", help="name of the restored database (default: settings.influx_db)")
    load.set_defaults(handler=_run)
