"""Fetching server software through the package registries, into the project's cache."""

from __future__ import annotations

import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import IO


class InstallError(RuntimeError):
    """A server could not be installed; the message says which and why."""


PROGRESS_S = 10.0   # how often a long install step says it is still running


def run(argv: Sequence[str], what: str, env: dict[str, str] | None = None, cwd: Path | None = None,
        progress_s: float = PROGRESS_S) -> None:
    """Run an install step, saying every ``progress_s`` that it still runs and what it last printed (a
    Maven download or a ``go install`` takes minutes); raise :class:`InstallError` with its output on failure."""
    print(f"[stack] {what}: {' '.join(argv)}", flush=True)
    started = time.monotonic()
    with tempfile.TemporaryFile() as output:
        process = subprocess.Popen(list(argv), stdout=output, stderr=subprocess.STDOUT,
                                   env={**os.environ, **(env or {})}, cwd=cwd)
        while True:
            try:
                returncode = process.wait(timeout=progress_s)
                break
            except subprocess.TimeoutExpired:
                print(f"[stack] {what}: still running, {time.monotonic() - started:.0f} s"
                      f"{_last_line(output)}", flush=True)
        output.seek(0)
        lines = output.read().decode(errors="replace").splitlines()
    if returncode != 0:
        tail = "\n".join(lines[-25:])
        raise InstallError(f"{what} failed (exit {returncode}):\n{tail}")


def _last_line(output: IO[bytes]) -> str:
    """``: <the last line the step printed>``, printable and short, or nothing."""
    output.seek(max(0, output.seek(0, os.SEEK_END) - 4096))
    lines = [line for line in output.read().decode(errors="replace").splitlines() if line.strip()]
    if not lines:
        return ""
    last = "".join(ch if ch.isprintable() else " " for ch in lines[-1].strip())
    return f": {last[:100]}"


def apt_install(packages: Sequence[str], binary: str) -> str:
    """Install Debian packages unless ``binary`` is already on PATH; return the binary's path."""
    found = shutil.which(binary) or next((p for p in (f"/usr/sbin/{binary}", f"/usr/bin/{binary}") if os.access(p, os.X_OK)), None)
    if found:
        return found
    if os.geteuid() != 0:
        raise InstallError(f"{binary} is missing: run `sudo apt-get install -y {' '.join(packages)}`")
    env = {"DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], "apt-get update", env)
    run(["apt-get", "install", "-y", "-qq", *packages], f"installing {' '.join(packages)}", env)
    found = shutil.which(binary) or (f"/usr/sbin/{binary}" if os.access(f"/usr/sbin/{binary}", os.X_OK) else None)
    if not found:
        raise InstallError(f"{binary} still missing after installing {packages}")
    return found
