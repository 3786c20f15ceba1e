"""Batched, asynchronous writes to InfluxDB 1.8 through influxdb-client's v2 compatibility API.

Two ways in: :meth:`InfluxWriter.write` awaits one batch (the Kafka topic writers, which commit
offsets only after it), and :meth:`InfluxWriter.submit`, which queues lines and returns at once, so
that the alarm path never waits on InfluxDB; a background task flushes the queue in batches.
"""

from __future__ import annotations

import asyncio
import logging

import aiohttp

from influxdb_client import WritePrecision
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

from hazmon.settings import Settings

log = logging.getLogger(__name__)


class InfluxWriter:
    def __init__(self, settings: Settings, database: str | None = None) -> None:
        self.database = database or settings.influx_db
        self._batch = settings.alerting_influx_batch
        self._flush_s = settings.alerting_influx_flush_s
        self._url = settings.influx_url.rstrip("/")
        self._client = InfluxDBClientAsync(url=settings.influx_url, token="", org="-", timeout=30_000)
        self._api = self._client.write_api()
        self._pending: list[str] = []
        self._writing = 0                      # lines of the flush in progress
        self._flushing = asyncio.Lock()        # one flush at a time: a caller's flush waits for the one under way
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None

    async def ensure_database(self) -> bool:
        """Create the database if it is missing (idempotent in InfluxDB 1.x); False when InfluxDB is unreachable.

        Alarms must flow while InfluxDB is down, so a failure here is logged, not raised.
        """
        try:
            async with aiohttp.ClientSession() as session, session.post(
                    f"{self._url}/query", data={"q": f'CREATE DATABASE "{self.database}"'},
                    timeout=aiohttp.ClientTimeout(total=10)) as response:
                response.raise_for_status()
            return True
        except (aiohttp.ClientError, TimeoutError) as exc:
            log.warning("influx database not ensured", extra={"database": self.database, "error": str(exc)})
            return False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="influx-flush")

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        await self.flush()
        await self._client.close()

    async def write(self, lines: list[str]) -> None:
        """Write ``lines`` now, in batches of ``alerting_influx_batch``; raises when InfluxDB refuses."""
        for start in range(0, len(lines), self._batch):
            chunk = lines[start:start + self._batch]
            await self._api.write(bucket=f"{self.database}/autogen", org="-", record="\n".join(chunk),
                                  write_precision=WritePrecision.MS)

    @property
    def queued(self) -> int:
        """Lines submitted and not yet written (a flush in progress included)."""
        return len(self._pending) + self._writing

    def submit(self, lines: list[str]) -> None:
        """Queue ``lines`` for the background flush; never blocks."""
        self._pending.extend(lines)
        if len(self._pending) >= self._batch:
            self._wakeup.set()

    async def flush(self) -> None:
        """Write everything queued so far, after any flush under way (retrying later on failure: nothing
        queued is dropped)."""
        async with self._flushing:
            lines, self._pending = self._pending, []
            if not lines:
                return
            self._writing = len(lines)
            try:
                await self.write(lines)
            except Exception as exc:  # noqa: BLE001 - InfluxDB down: keep the lines for the next flush
                self._pending[:0] = lines
                log.warning("influx write failed, will retry", extra={"lines": len(lines), "error": str(exc)})
            finally:
                self._writing = 0

    async def _flush_loop(self) -> None:
        while True:
            try:
                await asyncio.wait_for(self._wakeup.wait(), timeout=self._flush_s)
            except TimeoutError:
                pass
            self._wakeup.clear()
            await self.flush()
