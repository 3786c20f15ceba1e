"""docker-compose.yml stays in step with what the tests run: same server versions, same settings
names, same broker configurations, and hazmon commands that exist."""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest
import yaml

from hazmon.cli import build_parser
from hazmon.settings import Settings
from hazmon.stack.influxdb import INFLUXDB_VERSION
from hazmon.stack.kafka import KAFKA_VERSION, Kafka
from hazmon.stack.mosquitto import Mosquitto

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_validates() -> None:
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr


def test_same_server_versions_as_the_local_stack(compose: dict) -> None:
    images = {name: service.get("image", "") for name, service in compose["services"].items()}
    assert images["kafka"] == f"apache/kafka:{KAFKA_VERSION}"
    assert images["influxdb"] == f"influxdb:{INFLUXDB_VERSION.lstrip('v')}"
    debian = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    version = re.search(r"version (\S+)", debian).group(1)
    assert images["mosquitto"] == f"eclipse-mosquitto:{version}"


def test_settings_names_are_real_settings(compose: dict) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    names = {key.removeprefix("HAZMON_") for key in compose["x-hazmon-env"]}
    assert names <= fields, names - fields


def test_hazmon_commands_exist(compose: dict) -> None:
    parser = build_parser()
    commands = [service["command"] for service in compose["services"].values()
                if service.get("image", "").startswith("hazmon:")]
    assert len(commands) >= 4
    for command in commands:
        args = parser.parse_args(command)
        assert callable(args.handler), command


def test_broker_config_matches_the_local_stack(settings: Settings, tmp_path: Path) -> None:
    # generated under a scratch home, so the running broker's files are not touched
    local = Mosquitto(settings.model_copy(update={"home": tmp_path}))
    local.prepare()
    local_conf = _options((local.conf_dir / "mosquitto.conf").read_text())
    deployed = _options((ROOT / "deploy/mosquitto/mosquitto.conf").read_text())
    path_options = {"listener", "password_file", "acl_file", "persistence_location"}
    assert {k: v for k, v in local_conf.items() if k not in path_options} == \
           {k: v for k, v in deployed.items() if k not in path_options}
    assert local_conf.keys() == deployed.keys()


def test_kafka_config_matches_the_local_stack(compose: dict, settings: Settings) -> None:
    """The apache/kafka image turns KAFKA_SOME_KEY into some.key; addresses and paths differ by design."""
    where = {"listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs"}
    local = {k: v for k, v in Kafka(settings).properties().items() if k not in where}
    environment = compose["services"]["kafka"]["environment"]
    deployed = {k.removeprefix("KAFKA_").lower().replace("_", "."): str(v) for k, v in environment.items()
                if k != "KAFKA_HEAP_OPTS"}
    assert {k: v for k, v in deployed.items() if k not in where} == local


def _options(text: str) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            options.setdefault(key, []).append(value)
    return options
