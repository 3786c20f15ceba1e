"""docker-compose's broker restarted with ingest's sessions away: what devices publish meanwhile waits
for ingest (issue #20). The broker's container runs deploy/mosquitto/Dockerfile's entry point
(deploy/mosquitto/broker.sh); here its files are laid out as the image holds them (tests/broker_image.py)
and run on a private Mosquitto of the local stack's configuration, with a Python without hazmon's
environment: broker.sh must run the start step (``hzctl.stack.mosquitto_start``, which puts the shared
subscriptions Mosquitto 2.0 does not keep back into ``mosquitto.db``) from the modules the image copies.
Before, broker.sh exec'd Mosquitto alone and the messages below were acknowledged and dropped."""

from __future__ import annotations

import asyncio
import json
import os
import pwd
import shutil
import subprocess
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import aiomqtt
import pytest

from hazmon.secrets import Secrets
from hazmon.settings import Settings
from hzctl.stack.mosquitto import Mosquitto, write_broker_auth
from ingest.mqtt_link import ingest_link
from ingest.session_plan import SessionPlan
from tests.broker_image import image_env, instruction, lay_out
from testbed.faults.cluster import free_block
from tests.ingest.conftest import write_registry

pytestmark = pytest.mark.servers
ENTERPRISES = ("TIMG-NORTH", "TIMG-SOUTH")   # one ingest session each, as ingest_session_shards 0 plans them
DEVICE = "RTU01"                              # in tests/ingest/conftest.py's registry


class ImageBroker:
    """A private Mosquitto started, and restarted, through the image's entry point."""

    def __init__(self, settings: Settings) -> None:
        self.home = Path(tempfile.mkdtemp(prefix="hazmon-broker-image-"))
        os.chmod(self.home, 0o755)   # the broker drops to user mosquitto, which must reach its files
        for enterprise in ENTERPRISES:
            write_registry(self.home / "registry", enterprise)
        port = free_block(2)
        self.server = Mosquitto(settings.model_copy(update={
            "home": self.home, "registry_dir": self.home / "registry", "secrets_file": None,
            "mqtt_port": port, "mqtt_tls_port": port + 1}))
        self.server.prepare()   # the configuration; broker.sh installs passwd and acl from auth/
        self.secrets: Secrets
        self.secrets, accounts = self.server.secrets()
        write_broker_auth(self.home / "auth", self.settings.mqtt_platform_user, self.secrets, accounts)
        image = self.home / "image"
        command = json.loads(instruction("CMD"))
        assert command[1:] == ["-c", "/mosquitto/config/mosquitto.conf"], command
        self.argv = [*as_the_brokers_user(self.server.conf_dir, self.home / "auth", self.server.data_dir),
                     *lay_out(image), command[0], "-c", str(self.server.conf_dir / "mosquitto.conf")]
        self.env = image_env(image, BROKER_AUTH_DIR=str(self.home / "auth"), BROKER_CONFIG_DIR=str(self.server.conf_dir),
                             BROKER_DB=str(self.server.data_dir / "mosquitto.db"))
        self.log = self.home / "broker.log"
        self.process: subprocess.Popen | None = None

    @property
    def settings(self) -> Settings:
        return self.server.settings

    def start(self) -> None:
        with self.log.open("ab") as log:
            self.process = subprocess.Popen(self.argv, env=self.env, cwd=self.home / "image", stdout=log,
                                            stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 30
        while (problem := self.server.health()) is not None:
            assert self.process.poll() is None and time.monotonic() < deadline, f"{problem}:\n{self.log_text()}"
            time.sleep(0.2)

    def stop(self) -> None:
        """SIGTERM, as ``docker compose restart`` sends it to PID 1: Mosquitto writes its sessions and stops."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(15)

    def log_text(self) -> str:
        return self.log.read_text(errors="replace")


def as_the_brokers_user(*directories: Path) -> list[str]:
    """The container runs as user mosquitto (docker-compose.yml), the start step included, not as
    root: so does the test when it can (root: setpriv), with what mosquitto-config hands that user."""
    if os.geteuid() != 0:
        return []
    user = pwd.getpwnam("mosquitto")
    for directory in directories:
        for path in (directory, *directory.rglob("*")):
            os.chown(path, user.pw_uid, user.pw_gid)
    return ["setpriv", f"--reuid={user.pw_uid}", f"--regid={user.pw_gid}", "--init-groups"]


@pytest.fixture
def broker(settings: Settings) -> Iterator[ImageBroker]:
    own = ImageBroker(settings)
    try:
        own.start()
        yield own
    finally:
        own.stop()
        shutil.rmtree(own.home, ignore_errors=True)


async def test_ingest_sessions_keep_their_shared_subscriptions_across_a_restart_of_the_image(broker: ImageBroker) -> None:
    tag = uuid.uuid4().hex[:6]
    own = broker.settings.model_copy(update={"ingest_client_id": f"image-{tag}", "ingest_share_group": f"image-{tag}"})
    plans = {enterprise: SessionPlan(f"e-{enterprise}", frozenset({enterprise}), True) for enterprise in ENTERPRISES}
    for plan in plans.values():
        async with ingest_link(own, plan) as link:
            await link.subscribed
    await asyncio.to_thread(broker.stop)
    await asyncio.to_thread(broker.start)
    for enterprise in ENTERPRISES:
        async with aiomqtt.Client(own.mqtt_host, own.mqtt_port, username=enterprise, identifier=f"{enterprise}-gw",
                                  password=broker.secrets.enterprise(enterprise).mqtt_password,
                                  protocol=aiomqtt.ProtocolVersion.V5) as device:
            await device.publish(f"hazmon/v1/{enterprise}/{DEVICE}/telemetry", f"while away {enterprise}".encode(), qos=1)
    for enterprise, plan in plans.items():
        try:
            async with ingest_link(own, plan) as link, asyncio.timeout(5):
                message = await anext(link)
        except TimeoutError:
            pytest.fail(f"{enterprise}'s message published while ingest was away never came; broker log:\n"
                        f"{broker.log_text()[-3000:]}")
        assert message.payload == f"while away {enterprise}".encode()
    assert "shared subscriptions of persistent sessions put back" in broker.log_text()   # the step's line
