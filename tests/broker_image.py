"""The broker's image (deploy/mosquitto/Dockerfile) as files on this machine, for tests of what its
container runs: there is no Docker engine here, so a test lays out under a directory of its own what
the Dockerfile's COPY lines put into the image, runs the image's ENTRYPOINT from there (with the
machine's Mosquitto, the version the image is FROM) and a Python without hazmon's environment (the
image's own version, 3.8, where this machine has one)."""

from __future__ import annotations

import json
import os
import re
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOCKERFILE = ROOT / "deploy/mosquitto/Dockerfile"
IMAGE_PYTHON = "3.8"   # Alpine 3.12's python3: eclipse-mosquitto:2.0.11 is built FROM alpine:3.12


def instruction(name: str) -> str:
    """The argument of the Dockerfile's last ``name`` instruction."""
    found = re.findall(rf"^{name} (.+)$", DOCKERFILE.read_text(), re.MULTILINE)
    assert found, f"no {name} in {DOCKERFILE}"
    return found[-1]


def copied() -> dict[str, str]:
    """Each file a COPY line takes from the repository → its path in the image."""
    files: dict[str, str] = {}
    for line in re.findall(r"^COPY (.+)$", DOCKERFILE.read_text(), re.MULTILINE):
        *sources, target = line.split()
        for source in sources:
            files[source] = target + Path(source).name if target.endswith("/") else target
    return files


def lay_out(root: Path) -> list[str]:
    """The image's files copied under ``root``; returns its entry point with its paths under ``root``."""
    for source, target in copied().items():
        destination = root / target.lstrip("/")
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(ROOT / source, destination)
    return [str(root / part.lstrip("/")) if part.startswith("/") else part for part in json.loads(instruction("ENTRYPOINT"))]


def bare_python() -> Path:
    """A Python 3 without hazmon's virtualenv: the image's version where pyenv has one, else the
    interpreter the virtualenv was made from (without its packages)."""
    versions = Path(os.environ.get("PYENV_ROOT", Path.home() / ".pyenv")) / "versions"
    found = sorted(versions.glob(f"{IMAGE_PYTHON}.*/bin/python{IMAGE_PYTHON}"))
    return found[-1] if found else Path(sys.base_prefix) / "bin" / "python3"


def image_env(root: Path, **broker_settings: str) -> dict[str, str]:
    """The environment of the entry point: ``python3`` is :func:`bare_python`, nothing of hazmon on
    the module path; ``broker_settings`` are broker.sh's variables (BROKER_AUTH_DIR, ...)."""
    bin_dir = root / "test-bin"
    bin_dir.mkdir(exist_ok=True)
    (bin_dir / "python3").unlink(missing_ok=True)
    (bin_dir / "python3").symlink_to(bare_python())
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME", "VIRTUAL_ENV")}
    return {**env, "PATH": f"{bin_dir}:{env.get('PATH', '/usr/bin:/bin')}", **broker_settings}
