"""The ``hazmon`` command line: one entry point, a subcommand per job.

Each subcommand lives in its package's ``cli`` module, which exposes ``register(subparsers)`` and
imports its heavy dependencies only when run, so ``hazmon --help`` stays fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from hazmon import logs

COMMAND_MODULES: tuple[str, ...] = (
    "hazmon.stack.cli",
    "hazmon.stack.influx_cli",
    "hazmon.registry.cli",
    "hazmon.secrets_cli",
    "hazmon.demo",
    "stream_rules.cli",
    "ingest.cli",
    "dashboards.cli",
    "alerting.cli",
    "device_sim.cli",
)


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hazmon", description="hazmon: streaming IoT monitoring and early warning")
    parser.add_argument("--log-level", default="INFO", help="DEBUG, INFO, WARNING or ERROR")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    logs.configure(args.log_level)
    return int(args.handler(args) or 0)


if __name__ == "__main__":
    sys.exit(main())
