"""A three-broker Kafka cluster of a test's or a bench's own (the stack's nodes, hzctl.stack.kafka), on
free ports and in a directory of its own: the shared broker is never stopped, this one is killed at will."""

from __future__ import annotations

import random
import socket
from pathlib import Path

from hazmon.settings import Settings
from hzctl.stack.kafka import Kafka, cluster_settings, kafka_nodes
from hzctl.stack.manager import up_together

BROKERS = 3
HEAP_MB = 256     # three JVMs on a shared 2-core machine


def _free(port: int) -> bool:
    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", port))
        except OSError:
            return False
    return True


def free_block(size: int) -> int:
    """The first of ``size`` consecutive free ports (a cluster's nodes take base, base+1, …, base+2N−1)."""
    while True:
        base = random.randrange(20_000, 60_000, 2)
        if all(_free(base + n) for n in range(size)):
            return base


class Cluster:
    """The nodes, started together; ``stop`` ends each one still running."""

    def __init__(self, settings: Settings, home: Path) -> None:
        base = free_block(2 * BROKERS)
        own = settings.model_copy(update={"home": home, "cache_dir": settings.cache_path, "kafka_heap_mb": HEAP_MB,
                                          "kafka_bootstrap": f"127.0.0.1:{base}", "kafka_controller_port": base + 1})
        self.settings = cluster_settings(own, BROKERS)
        self.nodes: list[Kafka] = kafka_nodes(self.settings)

    def start(self, timeout_s: float = 180.0) -> None:
        up_together(list(self.nodes), timeout_s)

    def restart(self, node: Kafka, timeout_s: float = 180.0) -> None:
        up_together([node], timeout_s)

    def stop(self) -> None:
        for node in self.nodes:
            node.process.stop()

    def clients(self, settings: Settings) -> Settings:
        """``settings`` with this cluster's addresses and replicas."""
        return settings.model_copy(update={k: getattr(self.settings, k) for k in
                                           ("kafka_bootstrap", "kafka_replication_factor", "kafka_min_insync_replicas")})

    @property
    def env(self) -> dict[str, str]:
        """What a hazmon process needs to work on this cluster."""
        s = self.settings
        return {"HAZMON_KAFKA_BOOTSTRAP": s.kafka_bootstrap, "HAZMON_KAFKA_REPLICATION_FACTOR": str(s.kafka_replication_factor),
                "HAZMON_KAFKA_MIN_INSYNC_REPLICAS": str(s.kafka_min_insync_replicas)}
