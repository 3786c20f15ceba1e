"""Mosquitto from Debian's package, with a password file and ACL generated from the registry.

Each enterprise's account (username = enterprise id) may publish only to its own ``telemetry``,
``event`` and ``status`` topics and read only its own ``errors`` topics (data standard §2); the
platform account reads and writes everything under ``hazmon/``.

Mosquitto 2.0.11 does not check a SUBSCRIBE against the ACL (it drops denied deliveries instead),
so the ACL alone cannot keep an enterprise out of the platform's shared subscription, nor out of
its session: the platform's share group and client ids are secrets (``hazmon.secrets``), and every
session expires ``mqtt_session_expiry_max_h`` after its connection (docs/security.md).
"""

from __future__ import annotations

import os
import pwd
import shutil
import signal
import subprocess
import time

from pathlib import Path

import paho.mqtt.client as paho

from hazmon.registry import load_registry
from hazmon.secrets import Secrets, load_secrets
from hazmon.settings import Settings
from hazmon.stack.certs import ensure_certificates, server_names, tls_dir
from hazmon.stack.installer import InstallError, apt_install
from hazmon.stack.service import Service


def acl_text(platform_user: str, enterprise_ids: list[str]) -> str:
    """The broker ACL: the platform everywhere under hazmon/, each enterprise only in its own topics."""
    lines = [f"user {platform_user}", "topic readwrite hazmon/#", ""]
    for enterprise_id in sorted(enterprise_ids):
        lines += [f"user {enterprise_id}"]
        lines += [f"topic write hazmon/v1/{enterprise_id}/+/{kind}" for kind in ("telemetry", "event", "status")]
        lines += [f"topic read hazmon/v1/{enterprise_id}/+/errors", ""]
    return "\n".join(lines)


def write_broker_auth(directory: Path, platform_user: str, current: Secrets,
                      enterprise_ids: list[str]) -> tuple[Path, Path]:
    """Write ``passwd`` (plain ``user:password`` lines, mode 0600, for ``mosquitto_passwd -U`` to
    hash) and ``acl`` into ``directory``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / "passwd"
    entries = [(platform_user, current.platform_mqtt_password)]
    entries += [(e, current.enterprise(e).mqtt_password) for e in enterprise_ids]
    fd = os.open(passwd, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{user}:{password}\n" for user, password in entries)
    acl = directory / "acl"
    acl.write_text(acl_text(platform_user, enterprise_ids))
    return passwd, acl


class Mosquitto(Service):
    name = "mosquitto"

    @property
    def ports(self) -> tuple[int, ...]:
        return (self.settings.mqtt_port, self.settings.mqtt_tls_port)

    def install(self) -> None:
        self.binary = apt_install(["mosquitto", "mosquitto-clients"], "mosquitto")
        if not shutil.which("mosquitto_passwd"):
            apt_install(["mosquitto-clients", "mosquitto"], "mosquitto_passwd")

    def secrets(self, extra_enterprises: tuple[str, ...] = ()) -> tuple[Secrets, list[str]]:
        """Secrets of every enterprise ever registered here (so simulated counties and the sample
        registry can share one broker), adding the configured registry's and ``extra_enterprises``."""
        registry = load_registry(self.settings.registry_dir)
        current = load_secrets(self.settings.secrets_path, (*registry.enterprises, *extra_enterprises))
        return current, sorted(current.enterprises)

    def _write_auth(self, extra_enterprises: tuple[str, ...] = ()) -> Secrets:
        current, enterprise_ids = self.secrets(extra_enterprises)
        passwd, acl = write_broker_auth(self.conf_dir, self.settings.mqtt_platform_user, current, enterprise_ids)
        result = subprocess.run(["mosquitto_passwd", "-U", str(passwd)], capture_output=True, text=True)
        if result.returncode != 0:
            raise InstallError(f"mosquitto_passwd failed: {result.stderr.strip()}")
        self._give_to_broker_user(passwd, acl, self.data_dir)
        return current

    @staticmethod
    def _give_to_broker_user(*paths: os.PathLike) -> None:
        """Mosquitto started as root drops to user ``mosquitto``: it must be able to read its files."""
        if os.geteuid() != 0:
            return
        try:
            entry = pwd.getpwnam("mosquitto")
        except KeyError:
            return
        for path in paths:
            os.chown(path, entry.pw_uid, entry.pw_gid)

    def prepare(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        # Start without the sessions of a previous run. Mosquitto 2.0.11 cannot check a session it
        # restored from its persistence file against the password file (no password is kept), so
        # every reload (SIGHUP: grant() sends one per registry change) "disconnects" it again and
        # adds it to the session-expiry list once more; when it expires, the broker frees it while
        # the list still points to it, and later crashes (use-after-free, seen under AddressSanitizer).
        (self.data_dir / "mosquitto.db").unlink(missing_ok=True)
        self._write_auth()
        tls = ensure_certificates(tls_dir(self.settings), server_names(self.settings))
        self._give_to_broker_user(tls.certificate, tls.key)
        conf = self.conf_dir / "mosquitto.conf"
        conf.write_text("\n".join([
            "# generated by hazmon stack; edit hazmon/stack/mosquitto.py instead",
            "per_listener_settings false",
            f"listener {self.settings.mqtt_port} 127.0.0.1",
            "protocol mqtt",
            f"listener {self.settings.mqtt_tls_port} 127.0.0.1",  # devices: TLS with the installation's CA
            "protocol mqtt",
            f"cafile {tls.ca}",
            f"certfile {tls.certificate}",
            f"keyfile {tls.key}",
            "allow_anonymous false",
            f"password_file {self.conf_dir / 'passwd'}",
            f"acl_file {self.conf_dir / 'acl'}",
            "persistence true",
            f"persistence_location {self.data_dir}/",
            "autosave_interval 30",
            "max_queued_messages 1000000",  # a 5-minute burst at 3x the sustained rate waits here for ingest
            "max_queued_bytes 1073741824",   # ... and at most 1 GiB of payload per session, whatever its messages' size
            "max_inflight_messages 1000",
            "max_packet_size 1048576",
            # every session, an enterprise's parked ones too, ends this long after its connection
            # (v5 clients may ask for forever; Mosquitto 2.0.11 keeps them that long otherwise)
            f"persistent_client_expiration {self.settings.mqtt_session_expiry_max_h}h",
            "log_dest stdout",
            "log_type error",
            "log_type warning",
            "log_type notice",
            "connection_messages false",
            "",
        ]))

    def argv(self) -> list[str]:
        return [getattr(self, "binary", None) or shutil.which("mosquitto") or "/usr/sbin/mosquitto",
                "-c", str(self.conf_dir / "mosquitto.conf")]

    def health(self) -> str | None:
        current, _ = self.secrets()
        client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id="", protocol=paho.MQTTv5)
        client.username_pw_set(self.settings.mqtt_platform_user, current.platform_mqtt_password)
        answers: list[str] = []
        client.on_connect = lambda _c, _u, _f, reason, _p: answers.append(str(reason))
        try:
            client.connect(self.settings.mqtt_host, self.settings.mqtt_port, keepalive=5)
            deadline = time.monotonic() + 3
            while not answers and time.monotonic() < deadline:
                client.loop(timeout=0.2)
            client.disconnect()
        except OSError as exc:
            return f"cannot connect: {exc}"
        if not answers:
            return "no CONNACK within 3 s"
        return None if answers[0] == "Success" else f"platform login refused: {answers[0]}"

    def refresh(self) -> None:
        self.grant(())

    def grant(self, enterprise_ids: tuple[str, ...]) -> Secrets:
        """Regenerate password file and ACL (adding ``enterprise_ids``), make the running broker reload
        them, and return the secrets that now hold every account."""
        current = self._write_auth(enterprise_ids)
        self.process.signal(signal.SIGHUP)
        return current


def register_enterprises(settings: Settings, registry_dir: Path) -> Secrets:
    """Give every enterprise of ``registry_dir`` broker credentials, live: for simulated counties.

    Returns the secrets, which now hold each of those enterprises' MQTT password. The broker
    reloads its password file and ACL (SIGHUP) if this stack runs it.
    """
    return Mosquitto(settings).grant(tuple(load_registry(registry_dir).enterprises))
