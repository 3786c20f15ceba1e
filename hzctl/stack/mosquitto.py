"""Mosquitto from Debian's package, with a password file and ACL generated from the registry.

Each enterprise's account (username = enterprise id) may publish only to the ``telemetry``,
``event`` and ``status`` topics of its registered devices and read only its own ``errors`` topics
(data standard §2); the platform account reads and writes everything under ``hazmon/``. Per
device, not ``+``: bench/abuse.py's attacker sent 3.2 of its 4.0 million messages for a made-up
device, and each could have kept a retained message of up to 1 MiB.

The local broker serves several registries at once (the configured one, simulated counties, the
tests' own): the directories given to ``grant`` are remembered in ``conf/mosquitto/registries.json``
with what they held when they last validated, and every regeneration reads them again. An
enterprise gone from its registry (or a registry directory gone) loses its account at the next
``grant``/``refresh`` (``hazmon stack up``, ``register_enterprises``); the broker reloads on SIGHUP
and closes the connections of accounts that are gone. A registry that does not validate keeps the
accounts it last had.

Mosquitto 2.0.11 does not check a SUBSCRIBE against the ACL (it drops denied deliveries instead),
so the ACL alone cannot keep an enterprise out of the platform's shared subscription, nor out of
its session: the platform's share group and client ids are secrets (``hazmon.secrets``), and every
session expires ``mqtt_session_expiry_max_h`` after its connection (docs/security.md).
"""

from __future__ import annotations

import fcntl
import os
import pwd
import shutil
import signal
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import orjson
import paho.mqtt.client as paho

from hazmon.registry import Registry, RegistryError, load_registry
from hazmon.secrets import Secrets, load_secrets
from hazmon.settings import Settings
from hzctl.stack.certs import ensure_certificates, server_names, tls_dir
from hzctl.stack.installer import InstallError, apt_install
from hzctl.stack.service import Service


Accounts = Mapping[str, list[str]]  # enterprise id → its registered devices


def registry_accounts(registry: Registry) -> dict[str, list[str]]:
    """The broker accounts a registry asks for: each enterprise with its devices."""
    return {e: sorted(registry.devices(e)) for e in registry.enterprises}


def acl_text(platform_user: str, accounts: Accounts) -> str:
    """The broker ACL: the platform everywhere under hazmon/, each enterprise only on its devices' topics."""
    lines = [f"user {platform_user}", "topic readwrite hazmon/#", ""]
    for enterprise_id in sorted(accounts):
        lines += [f"user {enterprise_id}"]
        lines += [f"topic write hazmon/v1/{enterprise_id}/{device}/{kind}"
                  for device in sorted(accounts[enterprise_id]) for kind in ("telemetry", "event", "status")]
        lines += [f"topic read hazmon/v1/{enterprise_id}/+/errors", ""]
    return "\n".join(lines)


def write_broker_auth(directory: Path, platform_user: str, current: Secrets, accounts: Accounts) -> tuple[Path, Path]:
    """Write ``passwd`` (plain ``user:password`` lines, mode 0600, for ``mosquitto_passwd -U`` to
    hash) and ``acl`` into ``directory``; returns both paths."""
    directory.mkdir(parents=True, exist_ok=True)
    passwd = directory / "passwd"
    entries = [(platform_user, current.platform_mqtt_password)]
    entries += [(e, current.enterprise(e).mqtt_password) for e in sorted(accounts)]
    fd = os.open(passwd, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as handle:
        handle.writelines(f"{user}:{password}\n" for user, password in entries)
    acl = directory / "acl"
    acl.write_text(acl_text(platform_user, accounts))
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

    @property
    def _registries_file(self) -> Path:
        return self.conf_dir / "registries.json"

    @contextmanager
    def _auth_lock(self) -> Iterator[None]:
        """One regeneration at a time: tests and tools of several users grant registries at once."""
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        with (self.conf_dir / "auth.lock").open("w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            yield

    def secrets(self, extra_registries: tuple[Path, ...] = ()) -> tuple[Secrets, dict[str, list[str]]]:
        """The secrets and the broker accounts (enterprise → devices) of every registry granted here
        that still exists (so simulated counties and the sample registry can share one broker), the
        configured registry and ``extra_registries`` included; remembers them for the next call."""
        remembered: dict[str, dict[str, list[str]]] = {}
        if self._registries_file.is_file():
            remembered = orjson.loads(self._registries_file.read_bytes())
        named = {str(d.resolve()) for d in (self.settings.registry_dir, *extra_registries)}
        granted: dict[str, dict[str, list[str]]] = {}
        for directory in sorted(named | remembered.keys()):
            if not Path(directory).is_dir() and directory not in named:
                continue  # gone: so are its accounts
            try:
                granted[directory] = registry_accounts(load_registry(Path(directory)))
            except RegistryError:
                if directory in named:
                    raise
                granted[directory] = remembered[directory]  # an invalid registry keeps the accounts it had
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self._registries_file.write_bytes(orjson.dumps(granted, option=orjson.OPT_INDENT_2))
        accounts: dict[str, set[str]] = {}
        for held in granted.values():
            for enterprise, devices in held.items():
                accounts.setdefault(enterprise, set()).update(devices)
        current = load_secrets(self.settings.secrets_path, tuple(accounts))
        return current, {e: sorted(devices) for e, devices in sorted(accounts.items())}

    def _write_auth(self, extra_registries: tuple[Path, ...] = ()) -> Secrets:
        """Regenerate the password file and ACL in place: written and hashed aside, then renamed, so
        that a broker reloading meanwhile reads the old files or the new ones, never half of them."""
        current, accounts = self.secrets(extra_registries)
        staging = self.conf_dir / "staging"
        passwd, acl = write_broker_auth(staging, self.settings.mqtt_platform_user, current, accounts)
        result = subprocess.run(["mosquitto_passwd", "-U", str(passwd)], capture_output=True, text=True)
        if result.returncode != 0:
            raise InstallError(f"mosquitto_passwd failed: {result.stderr.strip()}")
        self._give_to_broker_user(passwd, acl, self.data_dir)
        os.replace(passwd, self.conf_dir / "passwd")
        os.replace(acl, self.conf_dir / "acl")
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
        # mosquitto.db is kept: the sessions, their queues and subscriptions come back with the broker
        # (docs/reliability.md "Mosquitto restarts"). Mosquitto 2.0.11 cannot check a session it
        # restored against the password file (no password is kept): each reload (SIGHUP, from
        # grant()) "disconnects" a restored session that has not connected again and adds it to the
        # session-expiry list once more, and when it expires the broker frees it while the list
        # still points to it (use-after-free). Sessions that come back (ingest, devices) are safe.
        with self._auth_lock():
            self._write_auth()
        tls = ensure_certificates(tls_dir(self.settings), server_names(self.settings))
        self._give_to_broker_user(tls.certificate, tls.key)
        conf = self.conf_dir / "mosquitto.conf"
        conf.write_text("\n".join([
            "# generated by hazmon stack; edit hzctl/stack/mosquitto.py instead",
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
            # what a crash (SIGKILL, power) loses: the changes of the last 5 s (sessions, subscriptions,
            # queues; a graceful stop writes everything); messages are never written before PUBACK
            "autosave_interval 5",
            # per session: ingest has one per enterprise, so this is what one enterprise's messages may
            # queue while ingest is away (docs/ingest.md "Delivery guarantees": a large enterprise's
            # 15 minutes at 100 messages/s), and what one flood can take of the broker's memory
            "max_queued_messages 100000",
            "max_queued_bytes 67108864",
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
        """Mosquitto, started by ``hzctl.stack.mosquitto_start``, which first puts the recorded shared
        subscriptions back into its persistence file (a restart with this same command gets it too)."""
        binary = getattr(self, "binary", None) or shutil.which("mosquitto") or "/usr/sbin/mosquitto"
        return [sys.executable, "-m", "hzctl.stack.mosquitto_start", str(self.data_dir / "mosquitto.db"),
                binary, "-c", str(self.conf_dir / "mosquitto.conf")]

    def health(self) -> str | None:
        current = load_secrets(self.settings.secrets_path)
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

    def grant(self, registries: tuple[Path, ...]) -> Secrets:
        """Regenerate password file and ACL from every granted registry (adding ``registries``), make
        the running broker reload them, and return the secrets that now hold every account."""
        with self._auth_lock():
            current = self._write_auth(registries)
            self.process.signal(signal.SIGHUP)
        return current


def register_enterprises(settings: Settings, registry_dir: Path) -> Secrets:
    """Give every enterprise of ``registry_dir`` broker credentials for its registered devices, live:
    for simulated counties and tests. What the directory holds is read again at every later grant,
    so an enterprise removed from it loses its account then.

    Returns the secrets, which now hold each of those enterprises' MQTT password. The broker
    reloads its password file and ACL (SIGHUP) if this stack runs it.
    """
    return Mosquitto(settings).grant((registry_dir,))
