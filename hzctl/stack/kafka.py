"""Apache Kafka 4.x in KRaft mode, one node or a cluster of several on this machine, from Maven Central jars.

The pinned POM (``templates/kafka-pom.xml``) is resolved with ``mvn dependency:copy-dependencies``
into the cache; storage is formatted on first start; the heap of each node is capped by ``kafka_heap_mb``.

One node per address of ``kafka_bootstrap``: a single address is the classic one-node broker
(``kafka``, data in ``HOME/data/kafka``); several make a cluster whose nodes ``kafka-1`` … ``kafka-N``
are each broker and controller (node n's controller listens on ``kafka_controller_port`` + 2(n−1)),
formatted with one cluster id kept in ``HOME/data/kafka-cluster.id``. :func:`cluster_settings` gives
the settings of an N-broker cluster (``hazmon stack up --brokers 3``).
"""

from __future__ import annotations

import asyncio
import base64
import logging
import re
import shutil
import subprocess
import uuid
from pathlib import Path

from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hazmon.settings import Settings
from hzctl.stack.installer import InstallError, run
from hzctl.stack.service import Service

TEMPLATES = Path(__file__).parent / "templates"
_VERSION = re.search(r"<kafka.version>([^<]+)<", (TEMPLATES / "kafka-pom.xml").read_text())
assert _VERSION is not None, "templates/kafka-pom.xml names no <kafka.version>"
KAFKA_VERSION = _VERSION.group(1)


def _java_version_ok() -> bool:
    out = subprocess.run(["java", "-version"], capture_output=True, text=True).stderr
    match = re.search(r'version "(\d+)', out)
    return bool(match and int(match.group(1)) >= 17)


def broker_ports(settings: Settings) -> list[int]:
    """The broker port of each node, in node order: the ports of ``kafka_bootstrap``'s addresses."""
    return [int(address.rsplit(":", 1)[1]) for address in settings.kafka_bootstrap.split(",")]


def cluster_settings(settings: Settings, brokers: int) -> Settings:
    """``settings`` for a cluster of ``brokers`` nodes from the first address's port upwards (9092, 9094, …;
    controllers 9093, 9095, …): every platform topic on up to three of them, writes acknowledged by two
    (one with fewer than three brokers), so one broker may die without losing or stopping anything."""
    host, port = settings.kafka_bootstrap.split(",")[0].rsplit(":", 1)
    replicas = min(brokers, 3)
    return settings.model_copy(update={
        "kafka_bootstrap": ",".join(f"{host}:{int(port) + 2 * n}" for n in range(brokers)),
        "kafka_replication_factor": replicas, "kafka_min_insync_replicas": max(1, replicas - 1)})


def kafka_nodes(settings: Settings) -> list[Kafka]:
    """The nodes the settings describe: one per address of ``kafka_bootstrap``."""
    count = len(broker_ports(settings))
    return [Kafka(settings, node, count) for node in range(1, count + 1)]


class Kafka(Service):
    """Node ``node`` of a cluster of ``nodes`` (the defaults: the one-node broker)."""

    def __init__(self, settings: Settings, node: int = 1, nodes: int = 1) -> None:
        self.node = node
        self.nodes = nodes
        self.name = "kafka" if nodes == 1 else f"kafka-{node}"
        super().__init__(settings)

    def _controller_port(self, node: int) -> int:
        return self.settings.kafka_controller_port + 2 * (node - 1)

    @property
    def ports(self) -> tuple[int, ...]:
        return (broker_ports(self.settings)[self.node - 1], self._controller_port(self.node))

    @property
    def bootstrap(self) -> str:
        """This node's own address (health checks ask it, not the cluster)."""
        return f"127.0.0.1:{self.ports[0]}"

    @property
    def libs(self) -> Path:
        return self.settings.cache_path / f"kafka-{KAFKA_VERSION}" / "libs"

    def install(self) -> None:
        if (self.libs / f"kafka_2.13-{KAFKA_VERSION}.jar").is_file():
            return
        if not shutil.which("java") or not shutil.which("mvn"):
            raise InstallError("Kafka needs java (17+) and mvn on PATH")
        if not _java_version_ok():
            raise InstallError("Kafka 4 needs Java 17 or newer: `java -version` reports an older one")
        staging = self.libs.with_name("libs.partial")
        shutil.rmtree(staging, ignore_errors=True)
        staging.mkdir(parents=True)
        pom = staging.parent / "pom.xml"
        shutil.copy(TEMPLATES / "kafka-pom.xml", pom)
        run(["mvn", "-B", "-q", "-f", str(pom), "dependency:copy-dependencies", f"-DoutputDirectory={staging}"],
            f"fetching Apache Kafka {KAFKA_VERSION} from Maven Central")
        shutil.rmtree(self.libs, ignore_errors=True)
        staging.rename(self.libs)

    def _java(self, main: str, *args: str, heap: bool = False) -> list[str]:
        opts = [f"-Xmx{self.settings.kafka_heap_mb}m", f"-Xms{min(256, self.settings.kafka_heap_mb)}m",
                "-XX:+UseG1GC", "-XX:MaxGCPauseMillis=20", "-Djava.awt.headless=true"] if heap else ["-Xmx256m"]
        return ["java", *opts, f"-Dlog4j2.configurationFile={self.conf_dir / 'log4j2.yaml'}",
                "-cp", f"{self.libs}/*", main, *args]

    def prepare(self) -> None:
        self.conf_dir.mkdir(parents=True, exist_ok=True)
        self.data_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy(TEMPLATES / "kafka-log4j2.yaml", self.conf_dir / "log4j2.yaml")
        (self.conf_dir / "server.properties").write_text(
            "# generated by hazmon stack; edit hzctl/stack/kafka.py instead\n"
            + "".join(f"{k}={v}\n" for k, v in self.properties().items()))
        if not (self.data_dir / "logs" / "meta.properties").is_file():
            run(self._java("kafka.tools.StorageTool", "format", f"--cluster-id={self._cluster_id()}",
                           "-c", str(self.conf_dir / "server.properties")), f"formatting the storage of {self.name}")

    def _cluster_id(self) -> str:
        """A new id for a single node; a cluster's nodes share the one kept in HOME/data/kafka-cluster.id."""
        cluster_id = base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")
        if self.nodes == 1:
            return cluster_id
        kept = self.data_dir.parent / "kafka-cluster.id"
        if not kept.is_file():
            kept.write_text(cluster_id)
        return kept.read_text().strip()

    def properties(self) -> dict[str, str]:
        """The node's server.properties (docker-compose.yml sets the same, bar addresses and paths).

        The broker's own topics (group offsets, transactions) are replicated like the platform's: with
        one copy, the death of the broker holding a group's coordinator stops every consumer of the group.
        ``min.insync.replicas`` stays 1 by default: it is set per platform topic (hazmon.kafka_topics),
        and Faust's internal topics may have fewer replicas than the platform's minimum."""
        s = self.settings
        port, controller = self.ports
        replicas, min_isr = str(s.kafka_replication_factor), str(s.kafka_min_insync_replicas)
        return {
            "process.roles": "broker,controller",
            "node.id": str(self.node),
            "controller.quorum.voters": ",".join(f"{n}@127.0.0.1:{self._controller_port(n)}"
                                                 for n in range(1, self.nodes + 1)),
            "listeners": f"PLAINTEXT://127.0.0.1:{port},CONTROLLER://127.0.0.1:{controller}",
            "advertised.listeners": f"PLAINTEXT://127.0.0.1:{port}",
            "controller.listener.names": "CONTROLLER",
            "inter.broker.listener.name": "PLAINTEXT",
            "listener.security.protocol.map": "CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            "log.dirs": str(self.data_dir / "logs"),
            "num.partitions": str(s.kafka_partitions),
            "default.replication.factor": replicas,
            "offsets.topic.replication.factor": replicas,
            "offsets.topic.num.partitions": "6",
            "transaction.state.log.replication.factor": replicas,
            "transaction.state.log.min.isr": min_isr,
            "transaction.state.log.num.partitions": "4",
            "share.coordinator.state.topic.replication.factor": replicas,
            "share.coordinator.state.topic.min.isr": min_isr,
            "group.initial.rebalance.delay.ms": "0",
            "auto.create.topics.enable": "true",
            "log.retention.hours": "168",
            "log.segment.bytes": str(256 * 1024 * 1024),
            "num.network.threads": "2",
            "num.io.threads": "4",
        }

    def argv(self) -> list[str]:
        return self._java("kafka.Kafka", str(self.conf_dir / "server.properties"), heap=True)

    def health(self) -> str | None:
        async def probe() -> str | None:
            producer = AIOKafkaProducer(bootstrap_servers=self.bootstrap, request_timeout_ms=3000,
                                        metadata_max_age_ms=1000)
            try:
                async with asyncio.timeout(5):
                    await producer.start()
                async with asyncio.timeout(5):
                    await producer.client.fetch_all_metadata()
            except (KafkaError, OSError, TimeoutError) as exc:
                return f"no metadata from the broker: {exc!r}"
            finally:
                await producer.stop()
            return None
        # a refused probe is an answer, not an error: keep aiokafka quiet for the probe only
        quiet = logging.getLogger("aiokafka")
        level = quiet.level
        quiet.setLevel(logging.CRITICAL)
        try:
            return asyncio.run(probe())
        finally:
            quiet.setLevel(level)
