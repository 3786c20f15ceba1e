"""``hazmon sim county|run|load|scenarios``: generate a county, play a scenario (by name or file) over MQTT,
load the broker, or list the shipped scenarios."""

from __future__ import annotations

import argparse
import asyncio
import sys
import uuid
from collections.abc import Callable, Mapping
from pathlib import Path

import orjson

from hazmon.console import table
from hazmon.errors import UserError
from hazmon.settings import Settings, get_settings


def _county(args: argparse.Namespace) -> int:
    from device_sim.county import write_county

    files = write_county(args.out, args.enterprises, args.seed)
    print(f"{len(files)} registry files written to {args.out}")
    return 0


def _county_dir(value: str | None, seed: int) -> tuple[Path, bool]:
    """``--county``: a registry directory, or a number N of generated enterprises (plus the sample's)."""
    from device_sim.county import county_with_sample
    from hazmon.settings import PACKAGE_DIR

    settings = get_settings()
    if value is None:
        return settings.registry_dir, False
    if value.isdigit():
        directory = county_with_sample(settings.home, int(value), seed, PACKAGE_DIR / "sample_registry")
        print(f"county: {directory} (run ingest and the rules with HAZMON_REGISTRY_DIR={directory})", file=sys.stderr)
        return directory, True
    return Path(value), True


def _scenario_file(value: str) -> Path:
    """``--scenario``: a file, or the name of a shipped scenario (``hazmon sim scenarios``)."""
    from device_sim.scenario import SCENARIO_DIR, shipped_scenarios

    if Path(value).is_file():
        return Path(value)
    if (SCENARIO_DIR / f"{value}.yaml").is_file():
        return SCENARIO_DIR / f"{value}.yaml"
    names = ", ".join(path.stem for path in shipped_scenarios())
    raise UserError(f"no scenario file or shipped scenario named {value!r}; shipped: {names}")


def _run(args: argparse.Namespace) -> int:
    from device_sim.run import run_scenario
    from device_sim.scenario import load_scenario

    scenario = load_scenario(_scenario_file(args.scenario))
    directory, whole_county = _county_dir(args.county, args.seed)
    settings = get_settings()
    passwords = args.grant_accounts(settings, directory)
    report = asyncio.run(run_scenario(settings, directory, scenario, args.speed, passwords, whole_county))
    sys.stdout.write(orjson.dumps(report).decode() + "\n")
    return 0


def _load(args: argparse.Namespace) -> int:
    from device_sim.load import LoadPlan, run_load

    settings = get_settings()
    if not 0 <= args.part < args.parts:
        raise SystemExit(f"--part {args.part} is not one of 0 … {args.parts - 1} (--parts {args.parts})")
    plan = LoadPlan(args.connections, args.rate, args.seconds, args.readings, args.run_id or uuid.uuid4().hex[:8],
                    args.part, args.parts)
    directory = args.county or settings.registry_dir
    report = asyncio.run(run_load(settings, directory, plan, args.grant_accounts(settings, directory),
                                  _ready_then_go if args.go_on_stdin else None))
    sys.stdout.write(orjson.dumps(report).decode() + "\n")
    return 0


async def _ready_then_go() -> None:
    """``sim load --go-on-stdin``: say ready on stdout, start at the next line on stdin."""
    sys.stdout.write(orjson.dumps({"ready": True}).decode() + "\n")
    sys.stdout.flush()
    await asyncio.to_thread(sys.stdin.readline)


def _scenarios(_args: argparse.Namespace) -> int:
    from device_sim.scenario import load_scenario, shipped_scenarios

    rows = [(path.stem, f"{scenario.duration_s / 3600:.1f} h", scenario.description)
            for path, scenario in ((path, load_scenario(path)) for path in shipped_scenarios())]
    print("\n".join(table(rows)))
    return 0


GrantAccounts = Callable[[Settings, Path], Mapping[str, str]]
"""Gives a registry directory's enterprises broker accounts; returns each one's MQTT password. The
broker is not the simulator's to manage: the command line that registers ``sim`` passes it."""


def register(subparsers: argparse._SubParsersAction, grant_accounts: GrantAccounts) -> None:
    parser = subparsers.add_parser("sim", help="device simulator: county generator, scenarios, load")
    sub = parser.add_subparsers(dest="sim_command", required=True, metavar="ACTION")

    county = sub.add_parser("county", help="write the registry files of a simulated county")
    county.add_argument("--enterprises", type=int, required=True, help="number of enterprises")
    county.add_argument("--seed", type=int, default=0, help="the same seed writes the same county")
    county.add_argument("--out", type=Path, required=True, help="output directory (a registry directory)")
    county.set_defaults(handler=_county)

    run = sub.add_parser("run", help="play a scenario on a county's devices over MQTT")
    run.add_argument("--county", help="a number N (N generated enterprises plus the sample registry's, all simulated) "
                                      "or a county's registry directory; default: the configured registry, "
                                      "only the scenario's enterprises simulated")
    run.add_argument("--seed", type=int, default=0, help="seed of a generated county (--county N)")
    run.add_argument("--scenario", required=True, help="a shipped scenario's name (hazmon sim scenarios) or a scenario file")
    run.add_argument("--speed", type=float, default=1.0,
                     help="time warp: scenario seconds per wall second; device time then starts in the past")
    run.set_defaults(handler=_run, grant_accounts=grant_accounts)

    sub.add_parser("scenarios", help="the shipped scenarios: name, duration, what they play").set_defaults(handler=_scenarios)

    load = sub.add_parser("load", help="many device connections at a target or maximum rate; prints a JSON report")
    load.add_argument("--county", type=Path, help="registry directory (default: the configured registry)")
    load.add_argument("--connections", type=int, default=10, help="device connections (one per registered device)")
    load.add_argument("--rate", type=float, default=0.0, help="messages per second over all connections; 0 = maximum")
    load.add_argument("--seconds", type=float, default=10.0, help="how long to publish")
    load.add_argument("--readings", type=int, default=10, help="readings per message")
    load.add_argument("--run-id", help="marker carried in every payload (field \"sim\") to count this run's messages")
    load.add_argument("--parts", type=int, default=1, help="load processes sharing the connections (one GIL each)")
    load.add_argument("--part", type=int, default=0, help="which of --parts this process is: it drives connections "
                                                           "part, part + parts, … at their share of --rate")
    load.add_argument("--go-on-stdin", action="store_true",
                      help="once ready, print {\"ready\": true} and start at the next line on stdin (a benchmark "
                           "starts several load processes together, after their tens of seconds of preparation)")
    load.set_defaults(handler=_load, grant_accounts=grant_accounts)
