"""The deployment's defences (issue #14): docker-compose.yml publishes only MQTT over TLS (8883) and the
API (8400), InfluxDB asks for a password every hazmon client and Grafana have, Grafana's admin password
comes from a secret, no long-running container runs as root; and the same TLS listener and InfluxDB
authentication on the real servers, started from the local stack's own code on ports of their own
(the shared stack is left as it runs)."""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
import tomllib
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Callable, Iterator
from pathlib import Path

import aiohttp
import paho.mqtt.client as paho
import pytest
import yaml

from hazmon.registry import load_registry
from hazmon.secrets import load_secrets
from hazmon.settings import Settings
from hzctl.stack.influxdb import InfluxDB, query
from hzctl.stack.installer import InstallError
from hzctl.stack.mosquitto import Mosquitto
from hzctl.stack.service import port_open

from recorder.influx import InfluxWriter
from dashboards.locations import write_locations
from dashboards.provisioning import datasources_yaml
from dashboards.text import Texts

ROOT = Path(__file__).resolve().parents[2]
PUBLISHED = {"8883", "8400"}             # MQTT over TLS for devices, the API for officers' phones
ROOT_ONE_SHOTS = {"mosquitto-config"}    # hands hazmon-init's 0600 files to user mosquitto, then exits


@pytest.fixture(scope="module")
def compose() -> dict:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_only_mqtt_over_tls_and_the_api_are_published(compose: dict) -> None:
    """Kafka, InfluxDB and plain MQTT stay inside the compose network; Grafana is on the host's loopback."""
    for name, service in compose["services"].items():
        for mapping in service.get("ports", []):
            parts = str(mapping).split(":")
            if len(parts) == 3:
                assert parts[0] == "127.0.0.1", (name, mapping)
            else:
                assert len(parts) == 2 and parts[0] == parts[1] and parts[0] in PUBLISHED, (name, mapping)
    assert compose["services"]["mosquitto"]["ports"] == ["8883:8883"]
    assert compose["services"]["alerting"]["ports"] == ["8400:8400"]
    assert compose["services"]["grafana"]["ports"] == ["127.0.0.1:3000:3000"]


def test_the_broker_gets_the_tls_files_the_init_writes(compose: dict, settings: Settings, tmp_path: Path) -> None:
    """deploy/mosquitto.conf's TLS listener reads the files mosquitto-config copies from hazmon-init's output."""
    conf = (ROOT / "deploy/mosquitto/mosquitto.conf").read_text()
    tls_listener = conf.split("listener 8883\n", 1)[1].split("listener", 1)[0]
    for option in ("cafile", "certfile", "keyfile"):
        assert re.search(rf"^{option} /mosquitto/config/\S+$", tls_listener, re.MULTILINE), option
    out = tmp_path / "broker-auth"
    environment = {**{k: v for k, v in os.environ.items() if k != "HAZMON_SECRETS_FILE"}, "HAZMON_HOME": str(tmp_path)}
    command = compose["services"]["hazmon-init"]["command"]
    hazmon = Path(sys.executable).with_name("hazmon")
    subprocess.run([str(hazmon), *command[:-1], str(out)], env=environment, check=True, capture_output=True)
    copied = re.findall(r"/broker-auth/(\S+)", " ".join(compose["services"]["mosquitto-config"]["command"]))
    assert copied and all((out / name).is_file() for name in copied), (copied, sorted(p.name for p in out.iterdir()))
    for option in ("cafile", "certfile", "keyfile"):
        used = re.search(rf"^{option} /mosquitto/config/(\S+)$", tls_listener, re.MULTILINE).group(1)
        assert used in copied, option
    assert (out / "server.key").stat().st_mode & 0o077 == 0


def test_influxdb_asks_for_the_password_every_client_has(compose: dict) -> None:
    services = compose["services"]
    assert services["influxdb"]["environment"]["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    assert compose["x-hazmon-env"]["HAZMON_INFLUX_USERNAME"]
    # hazmon's own InfluxDB clients (secret → HAZMON_INFLUX_PASSWORD, deploy/entrypoint.sh) and Grafana
    for name in ("influxdb-init", "alerting", "dashboards-locations", "grafana"):
        assert "hazmon_influx_password" in services[name]["secrets"], name
    assert services["dashboards-build"]["command"][:2] == ["dashboards", "build"]
    built = Settings(**{key.removeprefix("HAZMON_").lower(): value for key, value in compose["x-hazmon-env"].items()
                        if key in ("HAZMON_INFLUX_USERNAME", "HAZMON_DASHBOARDS_INFLUX_PASSWORD_FILE")})
    datasource = yaml.safe_load(datasources_yaml(Texts("zh"), built))["datasources"][0]
    assert datasource["user"] == compose["x-hazmon-env"]["HAZMON_INFLUX_USERNAME"]
    assert datasource["secureJsonData"]["password"] == "$__file{/run/secrets/hazmon_influx_password}"


def test_local_influxdb_runs_without_authentication_unless_a_password_is_set(compose: dict, settings: Settings,
                                                                          tmp_path: Path) -> None:
    """The one difference with the local stack, on purpose (docs/operations.md): the shared stack runs
    without a password; the same code with influx_password runs it with authentication, as compose does."""
    assert compose["services"]["influxdb"]["environment"]["INFLUXDB_HTTP_AUTH_ENABLED"] == "true"
    for password, enabled in ((None, "false"), ("secret", "true")):
        local = InfluxDB(settings.model_copy(update={"home": tmp_path / str(password), "influx_password": password}))
        local.prepare()
        assert f"auth-enabled = {enabled}" in (local.conf_dir / "influxdb.conf").read_text()


def test_grafanas_admin_password_comes_from_a_secret(compose: dict) -> None:
    grafana = compose["services"]["grafana"]
    environment = grafana["environment"]
    assert "GF_SECURITY_ADMIN_PASSWORD" not in environment
    secret = environment["GF_SECURITY_ADMIN_PASSWORD__FILE"].removeprefix("/run/secrets/")
    assert secret in grafana["secrets"] and secret in compose["secrets"]
    assert environment["GF_AUTH_ANONYMOUS_ENABLED"] == "false"


def test_no_long_running_container_runs_as_root(compose: dict) -> None:
    users = re.findall(r"^USER (\S+)$", (ROOT / "Dockerfile").read_text(), re.MULTILINE)
    assert users and users[-1].split(":")[0] not in ("root", "0"), users
    for name, service in compose["services"].items():
        user = str(service.get("user", ""))
        if name in ROOT_ONE_SHOTS:
            assert service["restart"] == "no", name
        elif service.get("image", "").startswith("hazmon:"):
            assert not user, (name, user)              # the image's USER
        else:
            assert user and user.split(":")[0] not in ("root", "0"), (name, user)


def test_the_hazmon_user_owns_what_compose_mounts_volumes_on(compose: dict) -> None:
    """A fresh named volume takes the owner of the image's directory it is mounted on."""
    dockerfile = (ROOT / "Dockerfile").read_text()
    owned = set(re.search(r"chown hazmon:hazmon ([^\n]+)", dockerfile).group(1).split())
    for service in compose["services"].values():
        if service.get("image", "").startswith("hazmon:"):
            for mount in service.get("volumes", []):
                source, target = mount.split(":")[:2]
                if source in compose["volumes"]:
                    assert target in owned, target


def test_the_brokers_healthcheck_waits_for_the_tls_listener(compose: dict) -> None:
    check = " ".join(compose["services"]["mosquitto"]["healthcheck"]["test"])
    assert f":{8883:04X} " in check and f":{1883:04X} " in check


def test_a_secret_the_hazmon_user_cannot_read_is_named() -> None:
    """The image runs as uid 10001: a secret file it cannot read stops the container with the file's
    name and the fix, instead of a setting silently missing (deploy/entrypoint.sh)."""
    secrets = Path(tempfile.mkdtemp(prefix="hazmon-secrets-"))
    try:
        secrets.chmod(0o755)
        (secrets / "hazmon_influx_password").write_text("secret")
        (secrets / "hazmon_influx_password").chmod(0o000)
        as_another_user = ["setpriv", "--reuid=65534", "--regid=65534", "--clear-groups"] if os.geteuid() == 0 else []
        result = subprocess.run([*as_another_user, "sh", str(ROOT / "deploy/entrypoint.sh")], capture_output=True, text=True,
                                env={"PATH": os.environ["PATH"], "HAZMON_SECRETS_DIR": str(secrets), "HAZMON_COMMAND": "true"})
    finally:
        shutil.rmtree(secrets)
    assert result.returncode == 1
    assert "hazmon_influx_password is not readable" in result.stderr and "chmod 0644" in result.stderr


# --- the real servers: Mosquitto's TLS listener, InfluxDB's authentication ---


@pytest.fixture(scope="module")
def tls_broker(settings: Settings) -> Iterator[Settings]:
    """A Mosquitto of its own, configured by the local stack's code, with its TLS listener."""
    home = Path(tempfile.mkdtemp(prefix="hazmon-tls-"))
    home.chmod(0o755)  # the broker drops to user mosquitto, which must reach its files
    plain, tls = _free_ports(2)
    private = settings.model_copy(update={"home": home, "mqtt_port": plain, "mqtt_tls_port": tls, "secrets_file": None})
    server = Mosquitto(private)
    server.prepare()
    with _running(server.argv(), home / "mosquitto.log", lambda: port_open(tls)):
        yield private


def _connack(settings: Settings, tls: ssl.SSLContext | None) -> str:
    """The broker's answer to the platform account's CONNECT on the TLS port, or why there was none."""
    password = load_secrets(settings.secrets_path, tuple(load_registry(settings.registry_dir).enterprises)).platform_mqtt_password
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="", protocol=paho.MQTTv5)
    client.username_pw_set(settings.mqtt_platform_user, password)
    if tls is not None:
        client.tls_set_context(tls)
    answers: list[str] = []
    client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
    try:
        client.connect("localhost", settings.mqtt_tls_port, keepalive=5)
        deadline = time.monotonic() + 3
        while not answers and time.monotonic() < deadline:
            if client.loop(timeout=0.2) != paho.MQTT_ERR_SUCCESS:
                return "connection lost"
        client.disconnect()
    except (OSError, ssl.SSLError) as exc:
        return f"refused: {exc}"
    return answers[0] if answers else "no CONNACK"


def test_mqtt_over_tls_with_the_installations_ca(tls_broker: Settings) -> None:
    ca = tls_broker.home / "tls" / "ca.crt"
    assert _connack(tls_broker, ssl.create_default_context(cafile=str(ca))) == "Success"


def test_plain_mqtt_on_the_tls_port_gets_no_session(tls_broker: Settings) -> None:
    """The broker closes a connection that does not begin with a TLS handshake: no CONNACK at all."""
    assert _connack(tls_broker, None) == "connection lost"


def test_tls_without_the_ca_is_refused(tls_broker: Settings) -> None:
    """A device that does not trust the installation's CA does not talk to an impostor either."""
    answer = _connack(tls_broker, ssl.create_default_context())
    assert answer.startswith("refused") and "CERTIFICATE_VERIFY_FAILED" in answer, answer


def test_the_ca_stays_when_the_stack_prepares_again(tls_broker: Settings) -> None:
    """Devices keep trusting the broker across restarts: the CA is made once."""
    ca = (tls_broker.home / "tls" / "ca.crt").read_bytes()
    Mosquitto(tls_broker.model_copy(update={"mqtt_tls_names": ["mqtt.example.gov.cn"]})).prepare()
    assert (tls_broker.home / "tls" / "ca.crt").read_bytes() == ca
    with socket.create_connection(("127.0.0.1", tls_broker.mqtt_tls_port), timeout=5) as raw, \
            ssl.create_default_context(cafile=str(tls_broker.home / "tls" / "ca.crt")).wrap_socket(
                raw, server_hostname="localhost") as connection:
        assert connection.version() in ("TLSv1.2", "TLSv1.3")


@pytest.fixture(scope="module")
def influx_with_auth(settings: Settings) -> Iterator[Settings]:
    """An InfluxDB of its own (the stack's binary and configuration) with influx_password set."""
    home = Path(tempfile.mkdtemp(prefix="hazmon-influx-auth-"))
    port = _free_ports(1, spaced=2)[0]
    private = settings.model_copy(update={"home": home, "cache_dir": settings.cache_path, "influx_db": "hz_auth",
                                          "influx_url": f"http://127.0.0.1:{port}", "influx_password": "pa'ss\\word"})
    server = InfluxDB(private)
    assert server.binary.is_file(), f"{server.binary} missing: run ./hz stack up once"
    server.prepare()
    with _running(server.argv(), home / "influxdb.log", lambda: server.health() is None):
        server.after_start()
        yield private


def test_influxdb_refuses_an_unauthenticated_query(influx_with_auth: Settings) -> None:
    statement = urllib.parse.urlencode({"q": "SHOW DATABASES"})
    with pytest.raises(urllib.error.HTTPError) as refused:
        urllib.request.urlopen(urllib.request.Request(f"{influx_with_auth.influx_url}/query?{statement}", method="POST"),
                               timeout=5)
    assert refused.value.code == 401
    names = [row[0] for row in query(influx_with_auth, "SHOW DATABASES")["results"][0]["series"][0]["values"]]
    assert "hz_auth" in names


def test_the_account_is_made_once_and_a_wrong_password_is_named(influx_with_auth: Settings) -> None:
    InfluxDB(influx_with_auth).after_start()     # idempotent
    with pytest.raises(InstallError, match="SET PASSWORD"):
        InfluxDB(influx_with_auth.model_copy(update={"influx_password": "wrong"})).after_start()


async def test_hazmon_clients_write_with_the_password(influx_with_auth: Settings) -> None:
    """alerting's writer (retention policies, line protocol) and the county map's writer."""
    writer = InfluxWriter(influx_with_auth)
    assert await writer.ensure_database()
    await writer.write([f"platform_ingest,instance=auth accepted=1i {int(time.time() * 1000)}"])
    await writer.close()
    registry = load_registry(influx_with_auth.registry_dir)
    assert await write_locations(registry, influx_with_auth.influx_url, influx_with_auth.influx_db,
                                 influx_with_auth.influx_headers) == len(registry.enterprises)
    async with aiohttp.ClientSession(headers=influx_with_auth.influx_headers) as session, session.post(
            f"{influx_with_auth.influx_url}/query",
            data={"db": influx_with_auth.influx_db, "q": "SELECT count(*) FROM platform_ingest"}) as response:
        assert response.status == 200
        assert (await response.json())["results"][0]["series"][0]["values"][0][1] == 1


# --- helpers ---


def _free_ports(count: int, spaced: int = 0) -> list[int]:
    """``count`` free ports on 127.0.0.1 (each with port + ``spaced`` free too), from the kernel's choice."""
    ports: list[int] = []
    while len(ports) < count:
        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            port = probe.getsockname()[1]
        if port not in ports and not port_open(port) and not (spaced and port_open(port + spaced)):
            ports.append(port)
    return ports


@contextlib.contextmanager
def _running(argv: list[str], log: Path, ready: Callable[[], bool]) -> Iterator[None]:
    """A server process for the length of a ``with`` block, waited for until ``ready()``; its home removed after."""
    with log.open("wb") as handle:
        process = subprocess.Popen(argv, stdout=handle, stderr=subprocess.STDOUT)
        try:
            deadline = time.monotonic() + 30
            while not ready():
                assert process.poll() is None and time.monotonic() < deadline, log.read_text()
                time.sleep(0.1)
            yield
        finally:
            process.terminate()
            process.wait(10)
            shutil.rmtree(log.parent, ignore_errors=True)


def test_the_image_holds_every_package_and_the_reports_font() -> None:
    """The image's `hazmon` command is hzctl's: a Dockerfile without `COPY hzctl` installed a command
    that could not start (found after the CLI moved to hzctl/). The daily report's PDF embeds the CJK
    font `desk_pdf_font` names, which Debian's fonts-noto-cjk installs (the image is Debian's slim)."""
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())
    packages = [name.rstrip("*") for name in project["tool"]["setuptools"]["packages"]["find"]["include"]]
    dockerfile = (ROOT / "Dockerfile").read_text()
    assert "hzctl" in packages
    for package in packages:
        assert f"COPY {package} ./{package}\n" in dockerfile, package
    assert str(Settings.model_fields["desk_pdf_font"].default).startswith("/usr/share/fonts/opentype/noto/")
    assert re.search(r"apt-get install [^\n]*fonts-noto-cjk", dockerfile), "the PDF report's font"


def test_a_build_sends_no_secrets_and_everything_the_images_copy() -> None:
    """Both images build from the repository's root: without a .dockerignore, `docker compose build`
    sent the whole checkout to the Docker daemon, ./secrets included (and a developer's .venv and
    .hazmon, gigabytes)."""
    ignored = {line.strip() for line in (ROOT / ".dockerignore").read_text().splitlines()
               if line.strip() and not line.startswith("#")}
    assert {"secrets", ".git", ".venv", ".hazmon", "registry"} <= ignored
    for dockerfile in (ROOT / "Dockerfile", ROOT / "deploy/mosquitto/Dockerfile"):
        for source in re.findall(r"^COPY (?:--\S+ )*(.+) \S+$", dockerfile.read_text(), re.MULTILINE):
            for path in source.split():
                assert path.split("/")[0] not in ignored, (dockerfile.name, path)
                assert (ROOT / path).exists(), (dockerfile.name, path)
