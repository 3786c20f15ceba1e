"""An isolated whole pipeline on the local stack: ingest, a rules worker, alerting and the recorder as children.

Everything a run touches is its own: a temporary HAZMON_HOME, Kafka topics with a unique suffix,
consumer groups, the MQTT client id and share group, an InfluxDB database and an API port. The
broker accounts are the main secrets file's (the broker's password file is built from it), so the
children get ``HAZMON_SECRETS_FILE`` pointing there. MQTT topics are the broker's, shared: given
``enterprises`` (ids of the run's own), ingest subscribes to those only and no other run's devices
reach it. Used by the end-to-end and fault tests and by ``bench/pipeline.py``, ``bench/faults.py`` and ``bench/abuse.py``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import random
import socket
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer

from hazmon.kafka_topics import ensure_topics
from hazmon.topics import PlatformTopics
from hazmon.settings import PACKAGE_DIR, Settings
from hzctl.supervisor import Child, Supervisor
from testbed.kafka_admin import delete_topics

PROJECT_ROOT = PACKAGE_DIR.parent
INGEST_SUBSCRIBED = "mqtt connected"   # ingest's log line once its subscriptions are in place


LISTEN_PORTS = range(20_000, 32_768)   # below Linux's default ephemeral range (32768-60999)


def spare_port() -> int:
    """A port free now for a child to listen on, outside the kernel's ephemeral range: a port the OS
    handed out (bind to 0) could be taken by any outgoing connection before the child binds it (CI
    2026-12-07: alerting's API found its port 35217 in use); one below the range is taken only by
    another listener."""
    low, _ = (int(n) for n in Path("/proc/sys/net/ipv4/ip_local_port_range").read_text().split())
    candidates = [port for port in LISTEN_PORTS if port < low] or list(LISTEN_PORTS)
    for port in random.sample(candidates, len(candidates)):
        with socket.socket() as probe:
            try:
                probe.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {LISTEN_PORTS}")


@dataclass
class IsolatedPipeline:
    """Names and environment of one run, and the supervisor of its children."""

    settings: Settings
    home: Path
    county_dir: Path
    unique: str
    duty_token: str
    webhook_urls: tuple[str, ...] = ()
    escalate_s: tuple[float, float] = (300.0, 900.0)  # to the county, to the prefecture: wall time, scale it likewise
    enterprises: tuple[str, ...] = ()   # ingest subscribes to these enterprises' topics only (empty: all)

    def __post_init__(self) -> None:
        self.suffix = f".e2e-{self.unique}"
        self.influx_db = f"e2e_{self.unique}"
        self.api_port = spare_port()
        self.names = PlatformTopics.with_suffix(self.suffix)
        self.env = {
            "HAZMON_HOME": str(self.home), "HAZMON_SECRETS_FILE": str(self.settings.secrets_path),
            "HAZMON_CACHE_DIR": str(self.settings.cache_path), "HAZMON_REGISTRY_DIR": str(self.county_dir),
            "HAZMON_INFLUX_DB": self.influx_db, "HAZMON_API_PORT": str(self.api_port),
            "HAZMON_KAFKA_TOPIC_SUFFIX": self.suffix, "HAZMON_INGEST_CLIENT_ID": f"e2e-ingest-{self.unique}",
            "HAZMON_INGEST_SESSION_EXPIRY_S": "120",  # outlives a restart, not the run: no orphan queue in the broker
            "HAZMON_INGEST_SHARE_GROUP": f"e2e-{self.unique}", "HAZMON_INGEST_STATS_INTERVAL_S": "1",
            "HAZMON_RULES_APP_ID": f"e2e-rules-{self.unique}", "HAZMON_ALERTING_GROUP": f"e2e-alerting-{self.unique}",
            "HAZMON_ALERTING_WEBHOOKS": orjson.dumps(list(self.webhook_urls)).decode(),
            "HAZMON_ALERTING_GROUP_WINDOW_S": "0",
            # a simulation ends and its county falls silent: not the platform's data outage (§8)
            "HAZMON_RULES_PLATFORM_OUTAGE_S": "3600",
            "HAZMON_ALERTING_ESCALATE_COUNTY_S": str(self.escalate_s[0]),
            "HAZMON_ALERTING_ESCALATE_PREFECTURE_S": str(self.escalate_s[1]),
            "HAZMON_INGEST_ENTERPRISES": orjson.dumps(list(self.enterprises)).decode(),
        }
        self.supervisor = Supervisor(self.home / "logs", env=self.env)
        self.api = f"http://127.0.0.1:{self.api_port}"

    async def create_topics(self) -> None:
        await ensure_topics(self.settings, self.names.all())

    def start_ingest(self, name: str = "ingest") -> Child:
        """An ingest process; several (each its own ``name``, so its own MQTT client ids and sessions) split
        the devices' messages through the run's shared-subscription group."""
        own = {} if name == "ingest" else {"HAZMON_INGEST_CLIENT_ID": f"e2e-{name}-{self.unique}"}
        return self.supervisor.start(name, ["ingest", "run"], env=own)

    def start_rules(self, name: str = "rules") -> Child:
        """A rules worker (several split the partitions; each needs its own ``name``)."""
        return self.supervisor.start(name, ["rules", "worker"])

    def start_alerting(self) -> Child:
        return self.supervisor.start("alerting", ["alerting", "run"])

    def start_recorder(self) -> Child:
        """The recorder: readings, counters, metrics and alerting's alarm and risk lines into InfluxDB."""
        return self.supervisor.start("recorder", ["recorder", "run"])

    def child_env(self) -> dict[str, str]:
        return {**os.environ, **self.env, "PYTHONUNBUFFERED": "1"}

    def sim(self, args: list[str], stdin: int = subprocess.DEVNULL) -> subprocess.Popen:
        """A ``hazmon sim …`` child whose stdout (its JSON report) is piped back (and its stdin with
        ``stdin=subprocess.PIPE``). It runs in the main HAZMON_HOME: it refreshes the broker's accounts, which live there."""
        return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "sim", *args], stdout=subprocess.PIPE,
                                stderr=(self.supervisor.log_dir / f"sim-{time.monotonic_ns()}.log").open("wb"),
                                stdin=stdin, cwd=PROJECT_ROOT,
                                env={**self.child_env(), "HAZMON_HOME": str(self.settings.home)})

    async def wait_api(self, timeout_s: float = 90.0) -> None:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                for name in ("alerting", "recorder"):
                    child = self.supervisor.children.get(name)
                    if child is not None and not child.alive:
                        raise RuntimeError(f"{name} exited:\n{child.log_tail()}")
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"{self.api}/healthz") as response:
                        if response.status == 200:
                            return
                await asyncio.sleep(0.5)
        raise RuntimeError(f"the API did not answer within {timeout_s:.0f} s")

    async def start(self) -> None:
        """Ingest, one rules worker, alerting and the recorder, until they answer (``wait_started``); topics made first."""
        await self.create_topics()
        self.start_ingest()
        self.start_rules()
        self.start_alerting()
        self.start_recorder()
        await self.wait_started()

    async def wait_started(self, timeout_s: float = 90.0) -> None:
        """Until the API answers and ingest has subscribed: what a device publishes before ingest's first
        subscription is not queued for it. (The rules worker's input waits in Kafka.)"""
        await self.wait_api(timeout_s)
        deadline = time.monotonic() + timeout_s
        ingest = self.supervisor.children["ingest"]
        while INGEST_SUBSCRIBED not in ingest.log_file.read_text(errors="replace"):
            if not ingest.alive or time.monotonic() > deadline:
                raise RuntimeError(f"ingest did not subscribe:\n{ingest.log_tail()}")
            await asyncio.sleep(0.5)

    async def alarms(self) -> list[dict]:
        status, body = await self.call("GET", "/api/v1/alarms")
        if status != 200:
            raise OSError(f"GET /api/v1/alarms answered {status}: {body}")
        return body["alarms"]

    async def call(self, method: str, path: str, body: dict | None = None) -> tuple[int, dict]:
        """One request to the API with the duty desk's token: (HTTP status, JSON body)."""
        async with aiohttp.ClientSession(headers={"Authorization": f"Bearer {self.duty_token}"},
                                         timeout=aiohttp.ClientTimeout(total=10)) as http:
            async with http.request(method, f"{self.api}{path}", json=body) as response:
                return response.status, await response.json()

    async def influx_query(self, query: str) -> list[list]:
        """Rows of the first series of ``query`` on this run's database."""
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.get(f"{self.settings.influx_url}/query", params={"db": self.influx_db, "q": query, "epoch": "ms"}) as response:
                body = await response.json()
        series = body["results"][0].get("series") or [{"values": []}]
        return [row for s in series for row in s["values"]]

    async def influx_readings(self) -> int:
        rows = await self.influx_query('SELECT count(value) FROM "raw".reading')
        return int(rows[0][1]) if rows else 0

    async def kafka_readings(self) -> int:
        """Readings ingest accepted: points of every record on this run's readings topic (repeats included)."""
        return sum([len(record["points"]) async for record in self.records(self.names.readings)])

    async def transitions(self) -> list[dict]:
        """The rules worker's committed alarm transitions (aborted transactions left out)."""
        return [record async for record in self.records(self.names.transitions)]

    async def records(self, topic: str) -> AsyncIterator[dict]:
        """Every committed record of ``topic`` up to its present end, decoded."""
        consumer = AIOKafkaConsumer(topic, bootstrap_servers=self.settings.kafka_bootstrap, group_id=None,
                                    auto_offset_reset="earliest", enable_auto_commit=False,
                                    isolation_level="read_committed")
        await consumer.start()
        try:
            ends = await consumer.end_offsets(list(await topic_partitions(consumer, topic)))
            while not await _reached(consumer, ends):
                batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
                for messages in batches.values():
                    for message in messages:
                        yield orjson.loads(message.value)
        finally:
            await consumer.stop()

    async def drop_database(self) -> None:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=30)) as http:
            async with http.post(f"{self.settings.influx_url}/query",
                                 params={"q": f'DROP DATABASE "{self.influx_db}"'}) as response:
                response.raise_for_status()

    async def drop_topics(self) -> None:
        """Delete every Kafka topic of this run (its own and the rules app's internal ones: all carry
        ``unique``); a benchmark's readings are gigabytes."""
        await delete_topics(self.settings.kafka_bootstrap, lambda t: self.unique in t)


async def _reached(consumer: AIOKafkaConsumer, ends: dict) -> bool:
    for partition, end in ends.items():
        if await consumer.position(partition) < end:
            return False
    return True


async def topic_partitions(consumer: AIOKafkaConsumer, topic: str) -> set:
    from aiokafka import TopicPartition

    await consumer.topics()
    return {TopicPartition(topic, p) for p in consumer.partitions_for_topic(topic) or ()}
