"""``hazmon rules worker``: run a stream-rules Faust worker (several may run; they split partitions)."""

from __future__ import annotations

import argparse


def _worker(args: argparse.Namespace) -> int:
    import sys

    from hazmon.settings import get_settings
    from stream_rules.worker import build_app

    app = build_app(get_settings())
    sys.argv = ["hazmon-rules", "worker", "--loglevel", args.faust_log_level, "--without-web"]
    app.main()  # Faust's own command line: it runs the worker until a signal stops it
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("rules", help="stream rules: readings → alarm transitions")
    sub = parser.add_subparsers(dest="rules_command", required=True, metavar="ACTION")
    worker = sub.add_parser("worker", help="run a faust-streaming rules worker")
    worker.add_argument("--faust-log-level", default="warn", choices=("crit", "error", "warn", "info", "debug"),
                        help="log level of Faust itself")
    worker.set_defaults(handler=_worker)
