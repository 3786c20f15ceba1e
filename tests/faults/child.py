"""``hazmon alerting run`` as a child process on a test's own topics, home and webhook, to be killed and restarted.

The child is ``hazmon alerting run`` itself, on the topics of ``HAZMON_KAFKA_TOPIC_SUFFIX``; this module
gives it an environment of its own and waits for its ``/healthz``.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import aiohttp
import orjson

from hazmon.settings import PACKAGE_DIR, Settings

from hazmon.topics import PlatformTopics
from testbed.pipeline import spare_port


class AlertingChild:
    """One alerting process at a time on ``home``: start, kill (SIGKILL or SIGTERM), start again."""

    def __init__(self, settings: Settings, names: PlatformTopics, home: Path, webhooks: list[str],
                 extra_env: dict[str, str] | None = None) -> None:
        self.names = names
        self.home = home
        self.api = ""
        self.env = {
            **os.environ, "PYTHONUNBUFFERED": "1", "HAZMON_HOME": str(home),
            "HAZMON_SECRETS_FILE": str(settings.secrets_path), "HAZMON_REGISTRY_DIR": str(settings.registry_dir),
            "HAZMON_INFLUX_DB": settings.influx_db, "HAZMON_INFLUX_URL": settings.influx_url,
            "HAZMON_KAFKA_BOOTSTRAP": settings.kafka_bootstrap,
            "HAZMON_KAFKA_TOPIC_SUFFIX": names.suffix, "HAZMON_ALERTING_GROUP": settings.alerting_group,
            "HAZMON_ALERTING_WEBHOOKS": orjson.dumps(webhooks).decode(), "HAZMON_ALERTING_GROUP_WINDOW_S": "0",
            **(extra_env or {}),
        }
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self) -> None:
        self.starts += 1
        port = spare_port()
        self.api = f"http://127.0.0.1:{port}"
        log_file = self.home / f"alerting-{self.starts}.log"
        with log_file.open("ab") as handle:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "hzctl.cli", "alerting", "run"],
                stdout=handle, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, cwd=PACKAGE_DIR.parent,
                env={**self.env, "HAZMON_API_PORT": str(port)}, start_new_session=True)

    def undelivered(self, alarm_id: str) -> int:
        """Rows of ``alarm_id`` in the child's outbox: notifications its ledger does not yet know delivered."""
        with contextlib.closing(sqlite3.connect(self.home / "alerting" / "ledger.sqlite3", timeout=5)) as db:
            return db.execute("SELECT count(*) FROM outbox WHERE alarm_id = ?", (alarm_id,)).fetchone()[0]

    def log(self) -> str:
        return "\n".join(p.read_text(errors="replace") for p in sorted(self.home.glob("alerting-*.log")))

    async def healthy(self, timeout_s: float = 60.0) -> dict:
        deadline = time.monotonic() + timeout_s
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
            while time.monotonic() < deadline:
                assert self.process is not None and self.process.poll() is None, f"alerting exited:\n{self.log()[-3000:]}"
                with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                    async with http.get(f"{self.api}/healthz") as response:
                        if response.status == 200:
                            return await response.json()
                await asyncio.sleep(0.2)
        raise AssertionError(f"alerting not healthy within {timeout_s:.0f} s:\n{self.log()[-3000:]}")

    async def health(self) -> tuple[int, dict]:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http, \
                http.get(f"{self.api}/healthz") as response:
            return response.status, await response.json()

    def kill(self, signum: int = signal.SIGKILL) -> None:
        assert self.process is not None
        self.process.send_signal(signum)
        self.process.wait(timeout=60)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.kill(signal.SIGKILL)
