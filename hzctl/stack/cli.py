"""``hazmon stack up | down | status | logs``: the local servers for development and tests."""

from __future__ import annotations

import argparse
import asyncio
import shutil
import subprocess
from pathlib import Path

from hazmon.settings import Settings, get_settings
from hzctl.stack.installer import InstallError, apt_install, run
from hzctl.stack.kafka import cluster_settings
from hzctl.stack.manager import StackError, down, services, status, up


def _print_states(states) -> int:
    for state in states:
        mark = "healthy" if state.healthy else f"DOWN ({state.problem})"
        pid = state.pid if state.pid is not None else "-"
        print(f"{state.name:<10} {state.address:<22} pid {pid!s:<8} {mark}")
    return 0 if all(s.healthy for s in states) else 1


def _settings(args: argparse.Namespace) -> Settings:
    """The settings, for a Kafka cluster of ``--brokers`` nodes when given (hzctl.stack.kafka.cluster_settings)."""
    return cluster_settings(get_settings(), args.brokers) if args.brokers else get_settings()


def _up(args: argparse.Namespace) -> int:
    settings = _settings(args)
    try:
        states = up(settings)
    except (StackError, InstallError) as exc:
        print(f"[stack] FAILED: {exc}")
        return 1
    print(f"[stack] data and logs under {settings.home}")
    if args.brokers:
        print(f"[stack] hazmon's processes on this cluster need: export HAZMON_KAFKA_BOOTSTRAP={settings.kafka_bootstrap} "
              f"HAZMON_KAFKA_REPLICATION_FACTOR={settings.kafka_replication_factor} "
              f"HAZMON_KAFKA_MIN_INSYNC_REPLICAS={settings.kafka_min_insync_replicas}")
    return _print_states(states)


def _down(args: argparse.Namespace) -> int:
    stopped = down(_settings(args))
    print(f"[stack] stopped: {', '.join(stopped) if stopped else 'nothing was running'}")
    return 0


def _status(args: argparse.Namespace) -> int:
    return _print_states(status(_settings(args)))


def _logs(args: argparse.Namespace) -> int:
    chosen = [s for s in services(get_settings()) if args.service in (None, s.name)]
    if not chosen:
        print(f"no service {args.service!r}")
        return 1
    if args.follow:
        return subprocess.call(["tail", "-n", str(args.lines), "-F", *(str(s.process.log_file) for s in chosen)])
    for service in chosen:
        print(f"==> {service.process.log_file} <==")
        print(service.process.log_tail(args.lines))
    return 0


def _broker_auth(args: argparse.Namespace) -> int:
    """For deployments (docker-compose.yml): the broker's accounts as plain text for ``mosquitto_passwd -U``,
    and its TLS files (the installation's CA and server certificate, kept in HOME/tls); with ``--watch``,
    the accounts again at every registry change (hzctl.stack.broker_auth_watch)."""
    from hzctl.stack.broker_auth_watch import watch_accounts, write_accounts
    from hzctl.stack.certs import ensure_certificates, server_names, tls_dir

    settings = get_settings()
    enterprises = write_accounts(settings, args.out, args.group)
    tls = ensure_certificates(tls_dir(settings), server_names(settings))
    for path in (tls.ca, tls.certificate, tls.key):
        shutil.copy(path, args.out / path.name)
    print(f"[stack] wrote passwd and acl into {args.out} for {enterprises} enterprises, and the broker's TLS files "
          f"for {', '.join(server_names(settings))}", flush=True)
    if args.watch:
        asyncio.run(watch_accounts(settings, args.out, args.group, args.every))
    return 0


def _ca_cert(_: argparse.Namespace) -> int:
    """The CA certificate (PEM) devices trust for the broker's TLS listener (data standard §2)."""
    from hzctl.stack.certs import tls_dir

    ca = tls_dir(get_settings()) / "ca.crt"
    if not ca.is_file():
        print(f"[stack] no {ca} yet: `stack up` (or a deployment's hazmon-init) makes it")
        return 1
    print(ca.read_text(), end="")
    return 0


def _influx_init(_: argparse.Namespace) -> int:
    """For deployments (docker-compose.yml): InfluxDB's account (influx_password) and database, as ``up`` makes them."""
    from hzctl.stack.influxdb import InfluxDB

    settings = get_settings()
    try:
        InfluxDB(settings).after_start()
    except InstallError as exc:
        print(f"[stack] FAILED: {exc}")
        return 1
    print(f"[stack] InfluxDB at {settings.influx_url}: database {settings.influx_db!r} in place, "
          f"{'account ' + repr(settings.influx_username) if settings.influx_password else 'no authentication'}")
    return 0


def _tools(_: argparse.Namespace) -> int:
    """Debian packages the test suite drives besides the servers: headless Chromium and its driver,
    a CJK font (fonts-noto-cjk: Chinese in the alarm page's screenshots, not boxes), and docker-compose
    to validate docker-compose.yml (no engine needed)."""
    try:
        apt_install(["chromium", "chromium-driver"], "chromium")
        apt_install(["chromium-driver", "chromium"], "chromedriver")
        apt_install(["docker-compose"], "docker-compose")
        if not subprocess.run(["fc-list", ":lang=zh", "family"], capture_output=True, text=True).stdout.strip():
            run(["apt-get", "install", "-y", "-qq", "fonts-noto-cjk"], "installing fonts-noto-cjk",
                {"DEBIAN_FRONTEND": "noninteractive"})
    except InstallError as exc:
        print(f"[stack] FAILED: {exc}")
        return 1
    print("[stack] test tools present: chromium, chromedriver, a CJK font, docker-compose")
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("stack", help="local servers: Mosquitto, Kafka, InfluxDB")
    sub = parser.add_subparsers(dest="stack_command", required=True, metavar="ACTION")
    for action, handler, text in (("up", _up, "install (first time) and start every server; idempotent"),
                                  ("down", _down, "stop the servers this stack started"),
                                  ("status", _status, "say which servers run healthy (exit 1 if any does not)")):
        command = sub.add_parser(action, help=text)
        command.add_argument("--brokers", type=int, choices=range(2, 10), metavar="N",
                             help="a Kafka cluster of N brokers (3: every topic on three, writes on two)")
        command.set_defaults(handler=handler)
    auth = sub.add_parser("broker-auth", help="write the broker's password file (plain), ACL and TLS files for a deployment")
    auth.add_argument("--out", type=Path, required=True, help="directory to write passwd, acl, ca.crt, server.crt and server.key into")
    auth.add_argument("--watch", action="store_true", help="keep running: write passwd and acl again whenever the registry changes")
    auth.add_argument("--every", type=float, default=2.0, metavar="S", help="with --watch: how often to look at the registry (seconds)")
    auth.add_argument("--group", type=int, metavar="GID", help="make passwd and acl readable by this group (the broker's user's: 1883 in eclipse-mosquitto)")
    auth.set_defaults(handler=_broker_auth)
    sub.add_parser("ca-cert", help="print the CA certificate devices trust for MQTT over TLS").set_defaults(handler=_ca_cert)
    sub.add_parser("influx-init", help="create InfluxDB's account (with influx_password) and database on a running InfluxDB, "
                   "for a deployment").set_defaults(handler=_influx_init)
    sub.add_parser("test-tools", help="install what the tests drive besides the servers (chromium, a CJK font, docker-compose)").set_defaults(handler=_tools)
    logs = sub.add_parser("logs", help="show the servers' logs")
    logs.add_argument("service", nargs="?", choices=[s.name for s in services(get_settings())])
    logs.add_argument("-n", "--lines", type=int, default=40)
    logs.add_argument("-f", "--follow", action="store_true")
    logs.set_defaults(handler=_logs)
