"""The scripts of the hazmon image (deploy/): secrets become settings, each scaled ingest process
takes its own instance number and gives it back when it ends, and the healthcheck sees connections."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"


def _fake_command(tmp_path: Path, body: str) -> Path:
    script = tmp_path / "fake-hazmon"
    script.write_text(f"#!/bin/sh\n{body}\n")
    script.chmod(0o755)
    return script


def test_secrets_become_settings(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hazmon_grafana_token").write_text("glsa_token")
    (secrets / "other").write_text("not ours")
    env = {"PATH": os.environ["PATH"], "HAZMON_SECRETS_DIR": str(secrets), "HAZMON_GRAFANA_URL": "http://grafana:3000",
           "HAZMON_COMMAND": str(_fake_command(tmp_path, 'env; echo "args: $*"'))}
    out = subprocess.run([str(DEPLOY / "entrypoint.sh"), "alerting", "run"], env=env, capture_output=True, text=True,
                         check=True).stdout.splitlines()
    assert "HAZMON_GRAFANA_TOKEN=glsa_token" in out
    assert "HAZMON_GRAFANA_URL=http://grafana:3000" in out
    assert "args: alerting run" in out
    assert not [line for line in out if "not ours" in line]


def test_no_grafana_url_without_a_token(tmp_path: Path) -> None:
    secrets = tmp_path / "secrets"
    secrets.mkdir()
    (secrets / "hazmon_grafana_token").write_text("")
    env = {"PATH": os.environ["PATH"], "HAZMON_SECRETS_DIR": str(secrets), "HAZMON_GRAFANA_URL": "http://grafana:3000",
           "HAZMON_COMMAND": str(_fake_command(tmp_path, "env"))}
    out = subprocess.run([str(DEPLOY / "entrypoint.sh")], env=env, capture_output=True, text=True, check=True).stdout
    assert "HAZMON_GRAFANA_URL" not in out and "HAZMON_GRAFANA_TOKEN" not in out


def test_each_ingest_process_takes_its_own_instance(tmp_path: Path) -> None:
    fake = _fake_command(tmp_path, 'echo "$*" > "$HAZMON_HOME/started-$$"; exec sleep 30')
    env = {"PATH": os.environ["PATH"], "HAZMON_HOME": str(tmp_path), "INGEST_ENTRYPOINT": str(fake)}
    script = str(DEPLOY / "ingest-instance.sh")

    def start() -> tuple[subprocess.Popen, str]:
        process = subprocess.Popen([script], env=env)
        started = tmp_path / f"started-{process.pid}"
        deadline = time.monotonic() + 10
        while not (started.exists() and started.read_text()):
            assert time.monotonic() < deadline, "the ingest command never started"
            time.sleep(0.05)
        return process, started.read_text().strip()

    first, second = start(), start()
    try:
        assert first[1] == "ingest run --instance 1"
        assert second[1] == "ingest run --instance 2"
        first[0].terminate()
        first[0].wait(10)
        third = start()                       # a restarted container takes the number given back
        try:
            assert third[1] == "ingest run --instance 1"
        finally:
            third[0].terminate()
            third[0].wait(10)
    finally:
        for process in (first[0], second[0]):
            process.terminate()
            process.wait(10)


def _healthcheck(*ports: int) -> int:
    return subprocess.run([sys.executable, str(DEPLOY / "connected.py"), *map(str, ports)], capture_output=True).returncode


def test_healthcheck_sees_established_connections() -> None:
    with socket.create_server(("127.0.0.1", 0)) as server:
        port = server.getsockname()[1]
        with socket.create_connection(("127.0.0.1", port)):
            assert _healthcheck(port) == 0
    assert _healthcheck(1) == 1
