"""The ``hazmon`` command line: one entry point, a subcommand per job.

Each subcommand lives in its package's ``cli`` module (this package's own: ``hzctl.*``), which exposes ``register(subparsers)`` and
imports its heavy dependencies only when run, so ``hazmon --help`` stays fast. A user's mistake (a
bad ``HAZMON_*`` value, a registry that does not validate, an unknown name) is answered on stderr
in a line or a few and exit code 2, never with a traceback: raise ``hazmon.errors.UserError`` for it.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence
from importlib.metadata import version

from pydantic import ValidationError

from hazmon import logs
from hazmon.errors import UserError
from hazmon.registry import RegistryError
from hzctl.prefecture_broker import write_prefecture_broker
from hzctl.stack.accounts import broker_passwords

COMMAND_MODULES: tuple[str, ...] = (
    "hzctl.stack.cli",
    "hzctl.stack.influx_cli",
    "hzctl.registry_cli",
    "hzctl.secrets_cli",
    "hzctl.backup_cli",
    "hzctl.config_cli",
    "hzctl.demo",
    "stream_rules.cli",
    "ingest.cli",
    "dashboards.cli",
    "alerting.cli",
    "alerting.desk.cli",
    "recorder.cli",
    "device_sim.cli",
    "uplink.cli",
    "prefecture.cli",
)
# what a stage's commands need from the operator's side, handed to its register() (stages never import hzctl)
COMMAND_HOOKS: dict[str, dict[str, object]] = {"device_sim.cli": {"grant_accounts": broker_passwords},
                                               "prefecture.cli": {"broker_command": write_prefecture_broker}}
LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR")
USER_MISTAKE = 2   # the exit code argparse gives a bad command line, used for every user mistake


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="hazmon", description="hazmon: streaming IoT monitoring and early warning")
    parser.add_argument("--version", action="version", version=f"hazmon {version('hazmon')}")
    parser.add_argument("--log-level", default="INFO", type=str.upper, choices=LOG_LEVELS, metavar="LEVEL",
                        help=f"one of {', '.join(LOG_LEVELS)} (default INFO)")
    subparsers = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers, **COMMAND_HOOKS.get(name, {}))
    return parser


def settings_problems(error: ValidationError) -> str:
    """Each bad setting as ``HAZMON_NAME=value: what is wrong``, one per line."""
    lines = []
    for problem in error.errors():
        name = "HAZMON_" + "_".join(str(part) for part in problem["loc"][:1]).upper()
        lines.append(f"{name}={problem.get('input')!s}: {problem['msg']}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)   # some commands' defaults come from the settings
        logs.configure(args.log_level)
        return int(args.handler(args) or 0)
    except UserError as mistake:
        print(f"hazmon: {mistake}", file=sys.stderr)
    except RegistryError as invalid:
        print(f"hazmon: the registry does not validate:\n{invalid}", file=sys.stderr)
    except ValidationError as invalid:
        if invalid.title != "Settings":
            raise
        print(f"hazmon: a setting is not valid (each is described in hazmon/settings.py):\n"
              f"{settings_problems(invalid)}", file=sys.stderr)
    return USER_MISTAKE


if __name__ == "__main__":
    sys.exit(main())
