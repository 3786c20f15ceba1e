"""Running hazmon's own processes (ingest, rules workers, alerting, the recorder, simulator) as children.

Used by ``hazmon demo``, the end-to-end tests and the pipeline benchmark: each child is a
``hazmon`` subcommand in its own process group with its own log file, and :meth:`Supervisor.stop_all`
stops exactly what was started here, nothing else.
"""

from __future__ import annotations

import logging
import os
import signal
import subprocess
import sys
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

log = logging.getLogger(__name__)


@dataclass
class Child:
    name: str
    argv: list[str]
    log_file: Path
    process: subprocess.Popen

    @property
    def alive(self) -> bool:
        return self.process.poll() is None

    def log_tail(self, lines: int = 20) -> str:
        try:
            return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])
        except FileNotFoundError:
            return "(no log)"


@dataclass
class Supervisor:
    """Starts ``hazmon`` subcommands as child processes and stops them again."""

    log_dir: Path
    env: Mapping[str, str] = field(default_factory=dict)
    children: dict[str, Child] = field(default_factory=dict)

    def start(self, name: str, args: Sequence[str], env: Mapping[str, str] | None = None) -> Child:
        if name in self.children and self.children[name].alive:
            raise RuntimeError(f"{name} is already running")
        self.log_dir.mkdir(parents=True, exist_ok=True)
        log_file = self.log_dir / f"{name}.log"
        argv = [sys.executable, "-m", "hzctl.cli", *args]
        with log_file.open("ab") as handle:
            process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                                       env={**os.environ, **self.env, **(env or {}), "PYTHONUNBUFFERED": "1"},
                                       start_new_session=True)
        child = Child(name, argv, log_file, process)
        self.children[name] = child
        log.info("started", extra={"child": name, "pid": process.pid, "log": str(log_file)})
        return child

    def kill(self, name: str, signum: int = signal.SIGKILL) -> None:
        """Signal one child's process group (SIGKILL by default: a crash, for the tests) and reap it."""
        child = self.children[name]
        if child.alive:
            os.killpg(child.process.pid, signum)
        child.process.wait()

    def stop(self, name: str, timeout_s: float = 20.0) -> None:
        """SIGTERM one child (it drains its work), SIGKILL it if it is still there after ``timeout_s``."""
        child = self.children[name]
        if not child.alive:
            return
        os.killpg(child.process.pid, signal.SIGTERM)
        try:
            child.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            log.warning("did not stop in time, killing", extra={"child": name})
            self.kill(name)

    def stop_all(self, timeout_s: float = 20.0) -> None:
        for name in reversed(list(self.children)):
            self.stop(name, timeout_s)

    def dead(self) -> list[Child]:
        """Children that exited on their own."""
        return [c for c in self.children.values() if not c.alive]
