"""An upper platform for the uplink tests and ``bench/uplink.py``: its broker of one's own
(``hzctl.stack.upper_broker``, on a free port, stopped and started again at will), its subscriber
collecting what counties send, a running uplink on the caller's Kafka topics, and the prefecture's
hazmon (``prefecture``) on that broker with its own record, InfluxDB database and API port."""

from __future__ import annotations

import asyncio
import contextlib
import io
import os
import shutil
import signal
import socket
import subprocess
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Literal

import aiohttp
import aiomqtt
import orjson
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

from hazmon import wire
from hazmon.registry import load_registry
from hazmon.settings import Settings
from hzctl.stack.certs import ensure_certificates
from hzctl.stack.service import port_open
from hzctl.stack.upper_broker import write_upper_broker
from prefecture.service import Prefecture
from testbed.alerting import CHEM
from uplink.service import Uplink

COUNTY, OTHER = "433127", "433126"   # 永顺县 and a neighbour
UPPER_USER, UPPER_PASSWORD = "prefecture-platform", "upper-secret"
PASSWORDS = {COUNTY: "county-secret", OTHER: "other-secret"}
COUNTY_NAMES = {COUNTY: "永顺县", OTHER: "龙山县"}
PREFECTURE_OFFICER, PREFECTURE_TOKEN = "李四", "prefecture-officer-token"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class UpperBroker:
    """The upper platform's Mosquitto, configured by ``write_upper_broker``; its sessions survive a stop."""

    def __init__(self, home: Path, tls: bool = False) -> None:
        self.home = home
        self.port = free_port()
        self.tls = ensure_certificates(home / "tls", ["localhost", "127.0.0.1"]) if tls else None
        self.conf = write_upper_broker(home, self.port, UPPER_USER, UPPER_PASSWORD, PASSWORDS, tls=self.tls)
        self.process: subprocess.Popen | None = None

    def start(self) -> None:
        log = (self.home / "mosquitto.log").open("ab")
        self.process = subprocess.Popen(["/usr/sbin/mosquitto", "-c", str(self.conf)], stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not port_open(self.port):
            assert self.process.poll() is None and time.monotonic() < deadline, (self.home / "mosquitto.log").read_text()
            time.sleep(0.05)

    def stop(self) -> None:
        """SIGTERM: the broker saves its sessions (persistence) and ends."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(10)
        self.process = None

    def reload(self) -> None:
        """SIGHUP: the broker reads its password file and ACL again."""
        assert self.process is not None
        self.process.send_signal(signal.SIGHUP)

    def client(self, username: str, password: str, identifier: str = "", **options: object) -> aiomqtt.Client:
        tls = None if self.tls is None else aiomqtt.TLSParameters(ca_certs=str(self.tls.ca))
        return aiomqtt.Client("127.0.0.1", self.port, username=username, password=password, identifier=identifier,
                              protocol=aiomqtt.ProtocolVersion.V5, tls_params=tls, **options)  # type: ignore[arg-type]

    def county_client(self, county: str, identifier: str = "") -> aiomqtt.Client:
        return self.client(county, PASSWORDS[county], identifier)


@contextlib.contextmanager
def upper_broker(tls: bool = False) -> Iterator[UpperBroker]:
    home = Path(tempfile.mkdtemp(prefix="hazmon-upper-"))
    os.chmod(home, 0o755)   # the broker drops to user mosquitto, which must reach its files
    broker = UpperBroker(home, tls)
    broker.start()
    try:
        yield broker
    finally:
        broker.stop()
        shutil.rmtree(home, ignore_errors=True)


class Collector:
    """The upper platform reading ``hazmon/v1/up/+/{kind}`` in a persistent session, reconnecting while
    its broker is away; ``messages`` in arrival order."""

    def __init__(self, broker: UpperBroker, kind: str) -> None:
        self.broker = broker
        self.kind = kind
        self.messages: list[dict] = []
        self.on_message: Callable[[dict], object] | None = None   # called with each message as it arrives
        self.task: asyncio.Task | None = None
        self.subscribed = asyncio.Event()

    async def run(self) -> None:
        properties = Properties(PacketTypes.CONNECT)
        properties.SessionExpiryInterval = 3600
        while True:
            try:
                async with self.broker.client(UPPER_USER, UPPER_PASSWORD, "upper-collector-" + self.kind,
                                              clean_start=False, properties=properties) as client:
                    await client.subscribe(f"hazmon/v1/up/+/{self.kind}", qos=1)
                    self.subscribed.set()
                    async for message in client.messages:
                        body = orjson.loads(message.payload)  # type: ignore[arg-type]
                        self.messages.append(body)
                        if self.on_message is not None:
                            self.on_message(body)
            except aiomqtt.MqttError:
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise asyncio.CancelledError from None   # the stop met a failing disconnect: no reconnecting
                await asyncio.sleep(0.2)

    def alarm_versions(self) -> dict[str, list[int]]:
        """Per alarm id, the versions in the order they arrived."""
        versions: dict[str, list[int]] = {}
        for message in self.messages:
            versions.setdefault(message["id"], []).append(message["version"])
        return versions


def task_stacks() -> str:
    """Where each task of the loop is waiting, but the current one: what a stop that does not end waits for."""
    current = asyncio.current_task()
    printed = io.StringIO()
    for task in asyncio.all_tasks():
        if task is not current:
            task.print_stack(limit=12, file=printed)
    return printed.getvalue()


async def stopped(task: asyncio.Task, timeout_s: float) -> None:
    """Cancel ``task`` and wait at most ``timeout_s`` for its end, raising its error; one that goes on fails here
    (``asyncio.wait_for`` would cancel it again and wait for it without end)."""
    task.cancel()
    await asyncio.wait({task}, timeout=timeout_s)
    assert task.done(), f"{task.get_name()} still running {timeout_s} s after its stop; tasks still running:\n{task_stacks()}"
    if not task.cancelled() and (error := task.exception()) is not None:
        raise error


@asynccontextmanager
async def collecting(broker: UpperBroker, kind: str = "alarm") -> AsyncIterator[Collector]:
    collector = Collector(broker, kind)
    collector.task = asyncio.create_task(collector.run())
    try:
        async with asyncio.timeout(10):
            await collector.subscribed.wait()
        yield collector
    finally:
        await stopped(collector.task, 15)


def uplink_settings(base: Settings, broker: UpperBroker, suffix: str, group: str) -> Settings:
    return base.model_copy(update={
        "uplink_county_id": COUNTY, "uplink_host": "127.0.0.1", "uplink_port": broker.port,
        "uplink_password": PASSWORDS[COUNTY], "uplink_tls_ca": broker.tls.ca if broker.tls else None, "uplink_client_id": f"uplink-{group}", "uplink_group": group,
        "kafka_topic_suffix": suffix, "uplink_retry_s": 0.2, "uplink_publish_timeout_s": 3.0,
        "uplink_max_inflight": 100, "uplink_heartbeat_s": 1.0})


@asynccontextmanager
async def running_uplink(settings: Settings) -> AsyncIterator[Uplink]:
    uplink = Uplink(settings, load_registry(settings.registry_dir))
    task = asyncio.create_task(uplink.run())
    try:
        yield uplink
    finally:
        await stopped(task, 30)


def versions_in_order(arrived: list[int]) -> bool:
    """Each version first arrives right after the one before it; anything else is a repeat of one already received."""
    highest = 0
    for version in arrived:
        if version == highest + 1:
            highest = version
        elif version > highest:
            return False   # a gap: a version skipped (lost, or arriving after a newer one)
    return True


def prefecture_settings(base: Settings, broker: UpperBroker, home: Path, database: str) -> Settings:
    """The prefecture's own settings: its broker (the test's upper broker), record, InfluxDB database, API port."""
    return base.model_copy(update={
        "home": home, "influx_db": database, "prefecture_counties": COUNTY_NAMES, "prefecture_broker_port": broker.port,
        "prefecture_broker_tls_ca": broker.tls.ca if broker.tls else None,
        "prefecture_platform_user": UPPER_USER, "prefecture_platform_password": UPPER_PASSWORD,
        "prefecture_client_id": f"prefecture-{home.name}", "prefecture_retry_s": 0.2, "prefecture_api_port": free_port(),
        "prefecture_officer_tokens": {PREFECTURE_OFFICER: PREFECTURE_TOKEN}})


@asynccontextmanager
async def running_prefecture(settings: Settings) -> AsyncIterator[Prefecture]:
    """The prefecture's hazmon, started on ``settings`` and subscribed (its broker session exists: what counties
    send from now on waits for it), stopped afterwards, its database dropped."""
    prefecture = Prefecture(settings)
    await prefecture.start()
    try:
        async with asyncio.timeout(60):
            await prefecture.ingest.subscribed.wait()
        yield prefecture
    finally:
        await prefecture.stop()
        await drop_database(settings, settings.influx_db)


async def drop_database(settings: Settings, database: str) -> None:
    """Drop a platform's InfluxDB database of a test or bench (its response read, its connection released)."""
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session, session.post(
            f"{settings.influx_url}/query", data={"q": f'DROP DATABASE "{database}"'}) as response:
        response.raise_for_status()


def prefecture_api(prefecture: Prefecture, token: str | None = PREFECTURE_TOKEN) -> aiohttp.ClientSession:
    """A session on the prefecture's API, as its officer (or without a token)."""
    return aiohttp.ClientSession(f"http://127.0.0.1:{prefecture.settings.prefecture_api_port}",
                                 headers={"Authorization": f"Bearer {token}"} if token else {})


TopicOf = Callable[[Literal["changes", "readings"]], Awaitable[tuple[str, str]]]


def alarm_change(alarm: str, version: int) -> wire.AlarmChange:
    """Version ``version`` of alarm ``alarm`` (of enterprise CHEM) as alerting publishes it, its value the version."""
    return {"v": 1, "version": version, "change": "escalated", "ts": version, "by": None,
            "alarm": {"id": alarm, "enterprise": CHEM, "escalated_to": "enterprise", "state": "active", "value": version}}
