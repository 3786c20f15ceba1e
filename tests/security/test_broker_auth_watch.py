"""A deployment's broker accounts follow its registry (issue #14): in docker-compose an enterprise
removed from ./registry kept its broker account until the broker's container restarted. Here the
two halves of the compose wiring run for real on a private Mosquitto: `hazmon stack broker-auth
--watch` (the hazmon side) writes the accounts into a directory, and deploy/mosquitto/broker.sh (the
broker container's entry point, run from the image's files) installs them, hashed, and makes the broker reload."""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from hazmon.secrets import Secrets, load_secrets
from hazmon.settings import Settings
from hzctl.stack.mosquitto import Mosquitto
from hzctl.stack.service import port_open
from tests.broker_image import image_env, lay_out
from tests.mqtt_sessions import connack, held_session
from tests.ingest.conftest import wait_for_account, write_registry
from tests.security.conftest import ATTACKER, VICTIM, _free_port

pytestmark = pytest.mark.servers
ROOT = Path(__file__).resolve().parents[2]
POLL_S = 0.5   # both halves look for changes this often (2 s in docker-compose.yml)


@dataclass(frozen=True)
class WatchedBroker:
    settings: Settings
    secrets: Secrets
    registry: Path
    watch_log: Path
    broker_log: Path


def _until(what: str, check: callable, timeout_s: float, log: Path) -> None:
    deadline = time.monotonic() + timeout_s
    while not check():
        assert time.monotonic() < deadline, f"{what} within {timeout_s:g} s; log:\n{log.read_text()[-3000:]}"
        time.sleep(0.1)


@pytest.fixture
def watched_broker(settings: Settings) -> Iterator[WatchedBroker]:
    """The watch writing into ``auth/``; the broker started by broker.sh reading from there."""
    home = Path(tempfile.mkdtemp(prefix="hazmon-broker-watch-"))
    os.chmod(home, 0o755)  # the broker drops to user mosquitto, which must reach its files
    registry, auth = home / "registry", home / "auth"
    write_registry(registry, VICTIM)
    write_registry(registry, ATTACKER)
    port = _free_port()
    private = settings.model_copy(update={"home": home, "mqtt_port": port, "mqtt_tls_port": _free_port(port + 1),
                                          "secrets_file": None, "registry_dir": registry})
    server = Mosquitto(private)
    server.prepare()   # the configuration; its passwd and acl are replaced by broker.sh's
    env = {**os.environ, "HAZMON_HOME": str(home), "HAZMON_REGISTRY_DIR": str(registry),
           "HAZMON_MQTT_PORT": str(private.mqtt_port), "HAZMON_MQTT_TLS_PORT": str(private.mqtt_tls_port)}
    env.pop("HAZMON_SECRETS_FILE", None)
    watch_log, broker_log = home / "watch.log", home / "broker.log"
    watch = subprocess.Popen([sys.executable, "-m", "hzctl.cli", "stack", "broker-auth", "--out", str(auth), "--watch",
                              "--every", str(POLL_S)], cwd=ROOT, env=env, stdout=watch_log.open("wb"),
                             stderr=subprocess.STDOUT)
    broker = None
    try:
        _until("the watch writes the accounts", lambda: (auth / "passwd").is_file() and (auth / "acl").is_file(),
               20, watch_log)
        image = home / "image"   # the broker's container: its entry point and files (tests/broker_image.py)
        broker = subprocess.Popen(
            [*lay_out(image), "mosquitto", "-c", str(server.conf_dir / "mosquitto.conf")], cwd=image,
            env=image_env(image, BROKER_AUTH_DIR=str(auth), BROKER_CONFIG_DIR=str(server.conf_dir),
                          BROKER_AUTH_POLL_S=str(POLL_S), BROKER_DB=str(server.data_dir / "mosquitto.db")),
            stdout=broker_log.open("wb"), stderr=subprocess.STDOUT)
        _until("the broker listens", lambda: port_open(private.mqtt_port) or broker.poll() is not None, 10, broker_log)
        assert broker.poll() is None, broker_log.read_text()
        current = load_secrets(private.secrets_path)
        wait_for_account(private, VICTIM, current.enterprise(VICTIM).mqtt_password)
        yield WatchedBroker(private, current, registry, watch_log, broker_log)
    finally:
        for process in (broker, watch):
            if process is not None:
                process.terminate()
                process.wait(10)
        shutil.rmtree(home, ignore_errors=True)


async def test_an_enterprise_removed_from_the_registry_is_locked_out_by_the_watch(watched_broker: WatchedBroker) -> None:
    broker = watched_broker
    password = broker.secrets.enterprise(ATTACKER).mqtt_password
    assert await asyncio.to_thread(connack, broker.settings, ATTACKER, password) == "Success"
    with held_session(broker.settings, ATTACKER, password, "leaving-gw") as closed:
        (broker.registry / f"{ATTACKER}.yaml").unlink()
        removed = time.monotonic()
        # the broker closes the session when it reloads its accounts
        assert await asyncio.to_thread(closed.wait, 20), (
            f"the removed enterprise's session still open after 20 s; watch log:\n"
            f"{broker.watch_log.read_text()[-2000:]}\nbroker log:\n{broker.broker_log.read_text()[-2000:]}")
    while (answer := await asyncio.to_thread(connack, broker.settings, ATTACKER, password)) == "Success":
        assert time.monotonic() - removed < 10, "the removed enterprise may still log in"
        await asyncio.sleep(0.2)
    assert answer in ("Not authorized", "Bad user name or password"), answer
    victim = broker.secrets.enterprise(VICTIM).mqtt_password
    assert await asyncio.to_thread(connack, broker.settings, VICTIM, victim) == "Success"
    assert "broker reloaded" in broker.broker_log.read_text()
    assert "broker accounts rewritten" in broker.watch_log.read_text()


async def test_an_enterprise_added_to_the_registry_gets_its_account(watched_broker: WatchedBroker) -> None:
    broker = watched_broker
    newcomer = "TSEC-NEWCOMER"
    write_registry(broker.registry, newcomer)
    watched = broker.settings
    deadline = time.monotonic() + 10
    while (password := load_secrets(watched.secrets_path).enterprises.get(newcomer)) is None:
        assert time.monotonic() < deadline, broker.watch_log.read_text()[-3000:]
        await asyncio.sleep(0.2)
    await asyncio.to_thread(wait_for_account, watched, newcomer, password.mqtt_password, 10.0)
