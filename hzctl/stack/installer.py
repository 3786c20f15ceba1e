"""Fetching server software through the package registries, into the project's cache."""

from __future__ import annotations

import os
import shutil
import subprocess
from collections.abc import Sequence
from pathlib import Path


class InstallError(RuntimeError):
    """A server could not be installed; the message says which and why."""


def run(argv: Sequence[str], what: str, env: dict[str, str] | None = None, cwd: Path | None = None) -> None:
    """Run an install step, printing progress; raise :class:`InstallError` with its output on failure."""
    print(f"[stack] {what}: {' '.join(argv)}", flush=True)
    result = subprocess.run(list(argv), capture_output=True, text=True, env={**os.environ, **(env or {})}, cwd=cwd)
    if result.returncode != 0:
        tail = "\n".join((result.stdout + result.stderr).splitlines()[-25:])
        raise InstallError(f"{what} failed (exit {result.returncode}):\n{tail}")


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
