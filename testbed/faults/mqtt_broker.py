"""A Mosquitto of a fault test's or bench's own, configured by hzctl.stack.mosquitto exactly as the stack's
own, on free ports, in a directory of its own, with a county's accounts: restarted at will (the shared
broker never is). Two ways to restart it: as the stack does (``hazmon stack up``: ``prepare`` first),
and as a service manager does (the same command again, its persistence file kept), after a SIGTERM or
a crash (SIGKILL)."""

from __future__ import annotations

import os
import shutil
import signal
import tempfile
import time
from pathlib import Path

from hazmon.settings import PACKAGE_DIR, Settings
from hzctl.stack.manager import up_one
from hzctl.stack.mosquitto import Mosquitto
from device_sim.county import county_with_sample
from testbed.faults.cluster import free_block


class OwnBroker:
    def __init__(self, settings: Settings, enterprises: int, seed: int) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="hazmon-faults-mqtt-"))
        os.chmod(self.home, 0o755)   # the broker drops to user mosquitto, which must reach its files
        county = county_with_sample(self.home, enterprises, seed, PACKAGE_DIR / "sample_registry")
        port = free_block(2)
        self.server = Mosquitto(settings.model_copy(update={
            "home": self.home, "registry_dir": county, "secrets_file": None, "mqtt_port": port, "mqtt_tls_port": port + 1}))

    @property
    def settings(self) -> Settings:
        return self.server.settings

    @property
    def env(self) -> dict[str, str]:
        """What a hazmon process needs to work on this broker."""
        s = self.settings
        return {"HAZMON_MQTT_PORT": str(s.mqtt_port), "HAZMON_MQTT_TLS_PORT": str(s.mqtt_tls_port),
                "HAZMON_SECRETS_FILE": str(s.secrets_path)}

    def start(self) -> None:
        up_one(self.server, 30)

    def restart_through_the_stack(self) -> None:
        self.server.process.stop()
        up_one(self.server, 30)

    def restart_keeping_its_persistence(self) -> None:
        self.server.process.stop()
        self._start_again()

    def restart_after_a_crash(self) -> None:
        """SIGKILL (Mosquitto writes nothing), then the same command again: it restores its last autosave."""
        self.server.process.signal(signal.SIGKILL)
        while self.server.process.pid() is not None:
            time.sleep(0.05)
        self._start_again()

    def _start_again(self) -> None:
        self.server.process.start(self.server.argv())
        deadline = time.monotonic() + 30
        while self.server.health() is not None:
            if time.monotonic() > deadline:
                raise TimeoutError(f"mosquitto not back within 30 s:\n{self.server.process.log_tail()}")
            time.sleep(0.2)

    def stop(self) -> None:
        self.server.process.stop()
        shutil.rmtree(self.home, ignore_errors=True)
