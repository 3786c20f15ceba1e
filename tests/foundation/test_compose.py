"""docker-compose.yml stays in step with what the tests run: same server versions, same settings
names, same broker configurations, and hazmon commands that exist; and it keeps a deployment's data:
data on volumes, every service health-checked, ingest scalable, dashboards from ./registry."""

from __future__ import annotations

import json
import re
import os
import subprocess
from pathlib import Path

import pytest
import yaml

from hzctl.cli import build_parser
from hazmon.settings import Settings
from hzctl.stack.influxdb import INFLUXDB_VERSION
from hzctl.stack.kafka import KAFKA_VERSION, Kafka
from hzctl.stack.mosquitto import Mosquitto
from tests import broker_image

ROOT = Path(__file__).resolve().parents[2]
COMPOSE = ROOT / "docker-compose.yml"


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load(COMPOSE.read_text())


def test_compose_file_validates() -> None:
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True,
                            env={**os.environ, "HAZMON_ALERTING_PUBLIC_URL": "https://hazmon.example.gov.cn"})
    assert result.returncode == 0, result.stderr


def test_compose_refuses_to_start_without_the_public_url() -> None:
    """alerting refuses a 0.0.0.0 API without alarm links that work from outside; compose says so first."""
    env = {k: v for k, v in os.environ.items() if k != "HAZMON_ALERTING_PUBLIC_URL"}
    result = subprocess.run(["docker-compose", "-f", str(COMPOSE), "config", "-q"], capture_output=True, text=True, env=env)
    assert result.returncode != 0 and "HAZMON_ALERTING_PUBLIC_URL" in result.stderr


def test_same_server_versions_as_the_local_stack(compose: dict) -> None:
    images = {name: service.get("image", "") for name, service in compose["services"].items()}
    assert images["kafka"] == f"apache/kafka:{KAFKA_VERSION}"
    assert images["influxdb"] == f"influxdb:{INFLUXDB_VERSION.lstrip('v')}"
    debian = subprocess.run(["mosquitto", "-h"], capture_output=True, text=True).stdout
    version = re.search(r"version (\S+)", debian).group(1)
    # the broker's own image (deploy/mosquitto/Dockerfile) is built FROM it; the one-shot uses it as it is
    assert re.findall(r"^FROM (\S+)$", broker_image.DOCKERFILE.read_text(), re.MULTILINE) == [f"eclipse-mosquitto:{version}"]
    assert images["mosquitto-config"] == f"eclipse-mosquitto:{version}"


def test_settings_names_are_real_settings(compose: dict) -> None:
    fields = {name.upper() for name in Settings.model_fields}
    names = {key.removeprefix("HAZMON_") for key in compose["x-hazmon-env"]}
    assert names <= fields, names - fields


def test_hazmon_commands_exist(compose: dict) -> None:
    parser = build_parser()
    commands = [_hazmon_argv(service) for service in compose["services"].values()
                if service.get("image", "").startswith("hazmon:")]
    assert len(commands) >= 6
    for command in commands:
        args = parser.parse_args(command)
        assert callable(args.handler), command


def test_kafka_keeps_its_log_on_the_volume(compose: dict) -> None:
    """The image rewrites server.properties from KAFKA_* (its default log.dirs is under /tmp)."""
    kafka = compose["services"]["kafka"]
    log_dirs = kafka["environment"]["KAFKA_LOG_DIRS"]
    mounts = _named_volume_mounts(compose, kafka)
    assert any(log_dirs == path or log_dirs.startswith(path.rstrip("/") + "/") for path in mounts), (log_dirs, mounts)


def test_server_data_is_on_named_volumes(compose: dict) -> None:
    data = {"mosquitto": "/mosquitto/data", "influxdb": "/var/lib/influxdb", "grafana": "/var/lib/grafana",
            "alerting": "/var/lib/hazmon"}
    for name, path in data.items():
        assert path in _named_volume_mounts(compose, compose["services"][name]), name


def test_every_running_service_is_health_checked(compose: dict) -> None:
    for name, service in compose["services"].items():
        if service.get("restart") == "no":       # one-shot set-up; dependants wait for its completion
            continue
        check = service.get("healthcheck")
        assert check and check.get("test") and not check.get("disable"), name


def test_dependants_wait_for_health(compose: dict) -> None:
    services = compose["services"]
    for name, service in services.items():
        for dependency, condition in (service.get("depends_on") or {}).items():
            wanted = ("service_completed_successfully" if services[dependency].get("restart") == "no"
                      else "service_healthy")
            assert condition["condition"] == wanted, (name, dependency)


def test_ingest_scales_with_an_identity_per_process(compose: dict) -> None:
    """--scale ingest=N: no fixed container name, no published port, an instance number per process."""
    ingest = compose["services"]["ingest"]
    assert "container_name" not in ingest and "ports" not in ingest
    assert ingest["entrypoint"] == ["hazmon-ingest-instance"]
    assert "--instance" not in ingest["command"]


def test_dashboards_and_map_are_built_from_the_deployments_registry(compose: dict) -> None:
    services = compose["services"]
    registry_dir = compose["x-hazmon-env"]["HAZMON_REGISTRY_DIR"]
    for name, command in (("dashboards-build", ["dashboards", "build"]), ("dashboards-locations", ["dashboards", "locations"])):
        assert services[name]["command"][:2] == command
        assert f"./registry:{registry_dir}:ro" in services[name]["volumes"], name
    built = {mount.split(":")[0] for mount in services["dashboards-build"]["volumes"]}
    grafana = services["grafana"]["volumes"]
    assert not [mount for mount in grafana if "dashboards/generated" in mount]
    assert {"grafana-provisioning", "grafana-dashboards"} <= built
    assert {"grafana-provisioning", "grafana-dashboards"} <= {mount.split(":")[0] for mount in grafana}


def test_the_recorder_runs_beside_alerting_with_the_influx_password(compose: dict) -> None:
    """Alerting writes no InfluxDB (docs/architecture.md): without the recorder nothing reaches it."""
    commands = {name: _hazmon_argv(service)[:2] for name, service in compose["services"].items()
                if service.get("image", "").startswith("hazmon:")}
    assert commands["alerting"] == ["alerting", "run"] and commands["recorder"] == ["recorder", "run"]
    recorder = compose["services"]["recorder"]
    assert "hazmon_influx_password" in recorder["secrets"] and "profiles" not in recorder
    assert "8086" in recorder["healthcheck"]["test"]


def test_grafana_token_comes_from_a_secret(compose: dict) -> None:
    """Secrets named hazmon_<setting> become HAZMON_<SETTING> (deploy/entrypoint.sh); every secret a
    hazmon service gets is one (others, such as Grafana's admin password, are for other images)."""
    assert compose["x-hazmon-env"]["HAZMON_GRAFANA_URL"]
    assert "hazmon_grafana_token" in compose["services"]["alerting"]["secrets"]
    fields = set(Settings.model_fields)
    for service in compose["services"].values():
        if service.get("image", "").startswith("hazmon:"):
            for name in service.get("secrets", []):
                assert name.startswith("hazmon_") and name.removeprefix("hazmon_") in fields, name


def test_dockerfile_installs_what_compose_runs(compose: dict) -> None:
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert 'ENTRYPOINT ["hazmon-entrypoint"]' in dockerfile
    for script in ("deploy/entrypoint.sh /usr/local/bin/hazmon-entrypoint",
                   "deploy/ingest-instance.sh /usr/local/bin/hazmon-ingest-instance",
                   "deploy/connected.py /usr/local/lib/hazmon/connected.py"):
        assert f"COPY {script}" in dockerfile
    checks = [service["healthcheck"]["test"] for service in compose["services"].values() if "healthcheck" in service]
    assert ["CMD", "python", "/usr/local/lib/hazmon/connected.py", "1883", "9092"] in checks


def test_broker_config_matches_the_local_stack(settings: Settings, tmp_path: Path) -> None:
    # generated under a scratch home, so the running broker's files are not touched
    local = Mosquitto(settings.model_copy(update={"home": tmp_path}))
    local.prepare()
    local_conf = _options((local.conf_dir / "mosquitto.conf").read_text())
    deployed = _options((ROOT / "deploy/mosquitto/mosquitto.conf").read_text())
    path_options = {"listener", "password_file", "acl_file", "persistence_location", "cafile", "certfile", "keyfile"}
    assert {k: v for k, v in local_conf.items() if k not in path_options} == \
           {k: v for k, v in deployed.items() if k not in path_options}
    assert local_conf.keys() == deployed.keys()


def test_the_brokers_accounts_follow_the_registry(compose: dict) -> None:
    """A removed enterprise kept its broker account until the broker's container restarted (#14).
    The wiring tests/security/test_broker_auth_watch.py runs for real: a watch writes the accounts at
    every registry change into a volume the broker's container reads; its entry point installs them
    and reloads the broker, whose configuration names the files it installs."""
    services = compose["services"]
    watch = services["broker-auth-watch"]
    args = build_parser().parse_args(watch["command"])
    assert args.watch and args.every <= 5
    assert f"./registry:{compose['x-hazmon-env']['HAZMON_REGISTRY_DIR']}:ro" in watch["volumes"]
    volume_of = {mount.split(":")[1]: mount.split(":")[0] for mount in watch["volumes"]}
    auth_volume = volume_of[str(args.out)]
    assert auth_volume in compose["volumes"]
    broker = services["mosquitto"]
    mounts = {mount.split(":")[1]: mount for mount in broker["volumes"]}
    script = (ROOT / "deploy/mosquitto/broker.sh").read_text()
    auth_dir = re.search(r'auth="\$\{BROKER_AUTH_DIR:-([^}]+)\}"', script).group(1)
    config_dir = re.search(r'conf="\$\{BROKER_CONFIG_DIR:-([^}]+)\}"', script).group(1)
    assert mounts[auth_dir].split(":")[0] == auth_volume
    assert not mounts[config_dir].endswith(":ro"), "broker.sh replaces passwd and acl there"
    entry = json.loads(broker_image.instruction("ENTRYPOINT"))
    assert entry[0] == "sh" and broker_image.copied()["deploy/mosquitto/broker.sh"] == entry[1]
    assert json.loads(broker_image.instruction("CMD"))[0] == "mosquitto"
    conf = _options((ROOT / "deploy/mosquitto/mosquitto.conf").read_text())
    assert conf["password_file"] == [f"{config_dir}/passwd"] and conf["acl_file"] == [f"{config_dir}/acl"]
    # the broker runs as user mosquitto (uid and gid 1883 in eclipse-mosquitto), not root: the accounts
    # are written readable by its group, of which the hazmon image's user is a member
    assert broker["user"] == "mosquitto" and args.group == 1883
    assert build_parser().parse_args(services["hazmon-init"]["command"]).group == 1883
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "groupadd --system --gid 1883" in dockerfile and "--groups broker" in dockerfile


def test_the_brokers_container_starts_it_as_the_local_stack_does(compose: dict) -> None:
    """Mosquitto 2.0 does not keep shared subscriptions in mosquitto.db: docker-compose's broker lost
    what devices published during a restart until ingest had subscribed again (#20), as the local stack
    did before its start step. The broker's service is built from deploy/mosquitto/Dockerfile, whose
    entry point runs that step on the file on the broker's volume, from the modules the image copies,
    with the Python the image installs (tests/faults/test_broker_image_restart.py runs them)."""
    broker = compose["services"]["mosquitto"]
    assert broker["build"] == {"context": ".", "dockerfile": str(broker_image.DOCKERFILE.relative_to(ROOT))}
    assert "entrypoint" not in broker and "command" not in broker, "the image's ENTRYPOINT and CMD"
    assert broker["image"] == f"hazmon-mosquitto:{compose['x-hazmon-service']['image'].split(':')[1]}"
    script = (ROOT / "deploy/mosquitto/broker.sh").read_text()
    step = re.search(r'^exec python3 -m (\S+) "\$db" "\$@"$', script, re.MULTILINE)
    assert step, "broker.sh execs the start step, which execs the broker"
    assert re.search(r"^RUN apk add --no-cache python3$", broker_image.DOCKERFILE.read_text(), re.MULTILINE)
    # the step's module, the project modules it imports and their packages' __init__.py, beside broker.sh
    # (its PYTHONPATH), nothing else of the project
    source = (ROOT / Path(*step.group(1).split(".")).with_suffix(".py")).read_text()
    modules = [step.group(1), *(name for name in re.findall(r"^(?:from|import) (\S+)", source, re.MULTILINE)
                                if name.split(".")[0] in ("hazmon", "hzctl"))]
    needed = {Path(*name.split(".")[:n], "__init__.py") for name in modules for n in range(1, name.count(".") + 1)}
    needed |= {Path(*name.split(".")).with_suffix(".py") for name in modules}
    copied = broker_image.copied()
    lib = Path(copied["deploy/mosquitto/broker.sh"]).parent
    assert {Path(source) for source in copied if source.endswith(".py")} == needed
    assert all(Path(copied[str(path)]) == lib / path for path in needed)
    # the file the step rewrites is Mosquitto's, on the broker's named volume
    db = re.search(r'^db="\$\{BROKER_DB:-([^}]+)\}"', script, re.MULTILINE).group(1)
    location = _options((ROOT / "deploy/mosquitto/mosquitto.conf").read_text())["persistence_location"]
    assert [db] == [location[0] + "mosquitto.db"] and str(Path(db).parent) in _named_volume_mounts(compose, broker)


def test_kafka_config_matches_the_local_stack(compose: dict, settings: Settings) -> None:
    """The apache/kafka image turns KAFKA_SOME_KEY into some.key; addresses and paths differ by design."""
    where = {"listeners", "advertised.listeners", "controller.quorum.voters", "log.dirs"}
    local = {k: v for k, v in Kafka(settings).properties().items() if k not in where}
    environment = compose["services"]["kafka"]["environment"]
    deployed = {k.removeprefix("KAFKA_").lower().replace("_", "."): str(v) for k, v in environment.items()
                if k != "KAFKA_HEAP_OPTS"}
    assert {k: v for k, v in deployed.items() if k not in where} == local


def _hazmon_argv(service: dict) -> list[str]:
    """The hazmon command line a service runs; deploy/ingest-instance.sh adds ``--instance N``."""
    if service.get("entrypoint") == ["hazmon-ingest-instance"]:
        return ["ingest", "run", "--instance", "1", *service["command"]]
    return service["command"]


def _named_volume_mounts(compose: dict, service: dict) -> list[str]:
    """Container paths of the service's named volumes (not bind mounts of host paths)."""
    mounts = [volume.split(":") for volume in service.get("volumes", [])]
    return [mount[1] for mount in mounts if mount[0] in compose["volumes"]]


def _options(text: str) -> dict[str, list[str]]:
    options: dict[str, list[str]] = {}
    for line in text.splitlines():
        if line.strip() and not line.startswith("#"):
            key, _, value = line.partition(" ")
            options.setdefault(key, []).append(value)
    return options
