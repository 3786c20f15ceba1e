"""Bringing the local stack up and down, and telling its state.

Each start is idempotent (a healthy server is left alone), waits for health with a timeout and,
on failure, names the server and shows the tail of its log. ``down`` stops only what ``up``
started, found by PID file.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from hazmon import topics
from hazmon.kafka_topics import ensure_topics_blocking
from hazmon.settings import Settings
from hzctl.stack.influxdb import InfluxDB
from hzctl.stack.kafka import kafka_nodes
from hzctl.stack.mosquitto import Mosquitto
from hzctl.stack.service import Service, port_open


class StackError(RuntimeError):
    """A server of the stack could not be brought up; the message names it and shows its log."""


@dataclass(frozen=True)
class ServiceState:
    name: str
    pid: int | None
    address: str
    problem: str | None

    @property
    def healthy(self) -> bool:
        return self.problem is None


def groups(settings: Settings) -> list[list[Service]]:
    """The servers in start order; the members of a group (a Kafka cluster's nodes) start together."""
    return [[Mosquitto(settings)], list[Service](kafka_nodes(settings)), [InfluxDB(settings)]]


def services(settings: Settings) -> list[Service]:
    return [service for group in groups(settings) for service in group]


def _wait_healthy(service: Service, timeout_s: float) -> None:
    deadline = time.monotonic() + timeout_s
    problem: str | None = "not checked"
    while time.monotonic() < deadline:
        if service.process.pid() is None:
            raise StackError(f"{service.name} exited during start-up. Last lines of {service.process.log_file}:\n"
                             f"{service.process.log_tail()}")
        problem = service.health()
        if problem is None:
            return
        time.sleep(0.5)
    raise StackError(f"{service.name} did not become healthy within {timeout_s:.0f} s ({problem}). "
                     f"Last lines of {service.process.log_file}:\n{service.process.log_tail()}")


def _start(service: Service) -> str:
    """Install, configure and start one server unless it already runs healthy; returns what was done."""
    service.install()
    if service.process.pid() is not None:
        service.refresh()
        if service.health() is None:
            return "already running"
        service.process.stop()
    busy = [p for p in service.ports if port_open(p)]
    if busy:
        raise StackError(f"{service.name}: port(s) {busy} on 127.0.0.1 are taken by a process this stack did not "
                         f"start; stop it or change the port settings (HAZMON_*_PORT / HAZMON_KAFKA_BOOTSTRAP / "
                         f"HAZMON_INFLUX_URL)")
    service.prepare()
    service.process.start(service.argv(), service.env())
    return "started"


def up_together(group: list[Service], timeout_s: float) -> list[str]:
    """Start every server of ``group``, then wait for each to be healthy (a cluster's node is healthy
    only once a quorum of its peers runs); returns what was done to each."""
    outcomes = [_start(service) for service in group]
    for service, outcome in zip(group, outcomes):
        if outcome == "started":
            _wait_healthy(service, timeout_s)
            service.after_start()
    return outcomes


def up_one(service: Service, timeout_s: float) -> str:
    """:func:`up_together` for one server."""
    return up_together([service], timeout_s)[0]


def up(settings: Settings) -> list[ServiceState]:
    for group in groups(settings):
        started = time.monotonic()
        print(f"[stack] {', '.join(s.name for s in group)}: starting …", flush=True)
        outcomes = up_together(group, settings.stack_start_timeout_s)
        for service, outcome in zip(group, outcomes):
            print(f"[stack] {service.name}: {outcome} on {service.url()} ({time.monotonic() - started:.1f} s)",
                  flush=True)
    created = ensure_topics_blocking(settings, topics.ALL)
    print(f"[stack] kafka: {len(created)} platform topics in place", flush=True)
    return status(settings)


def status(settings: Settings) -> list[ServiceState]:
    return [ServiceState(s.name, s.process.pid(), s.url(), s.health()) for s in services(settings)]


def down(settings: Settings) -> list[str]:
    """Stop the servers this stack started (newest first); returns the names stopped."""
    return [s.name for s in reversed(services(settings)) if s.process.stop()]
