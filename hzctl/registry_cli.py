"""``hazmon registry check [DIR]``: validate a registry directory and say what is wrong where, and warn
where a point has no name (accepted, but officers then read it by its quantity: §7, §10)."""

from __future__ import annotations

import argparse
from pathlib import Path

from hazmon.registry.loader import RegistryError, load_registry
from hazmon.registry.names import unnamed_points
from hazmon.settings import get_settings


def _check(args: argparse.Namespace) -> int:
    directory: Path = args.dir or get_settings().registry_dir
    try:
        registry = load_registry(directory)
    except RegistryError as exc:
        for problem in exc.problems:
            print(problem)
        print(f"registry {directory}: {len(exc.problems)} problem(s)")
        return 1
    warnings = unnamed_points(registry)
    for warning in warnings:
        print(f"warning: {warning}")
    devices = {(e.enterprise, e.point.device) for e in registry}
    print(f"registry {directory}: OK, {len(registry.enterprises)} enterprises, {len(devices)} devices, "
          f"{len(registry.points)} points" + (f", {len(warnings)} unnamed" if warnings else ""))
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("registry", help="registry (一企一清单) tools")
    sub = parser.add_subparsers(dest="registry_command", required=True, metavar="ACTION")
    check = sub.add_parser("check", help="validate a registry directory (default: the configured one)")
    check.add_argument("dir", nargs="?", type=Path, help="registry directory")
    check.set_defaults(handler=_check)
