"""Batched, asynchronous writes to InfluxDB 1.8 through influxdb-client's v2 compatibility API.

The recorder's one way to InfluxDB (docs/architecture.md): :meth:`InfluxWriter.write` awaits one batch
(the Kafka topic writers, which commit offsets only after it), and :meth:`InfluxWriter.submit`, which
queues lines and returns at once (the recorder's own metrics); a background task flushes the queue in batches. While
InfluxDB is down the queue keeps what it could not write, up to ``alerting_influx_queue_max`` lines;
beyond that the oldest are dropped, counted in :attr:`InfluxWriter.dropped` and logged as an error.

Lines InfluxDB refuses (HTTP 400: a field type conflict, an unparsable line, points beyond their
retention policy) are set aside, never retried: InfluxDB 1.8 has already written the other lines of
that request (``partial write``), and the same lines would be refused again forever, holding up
everything behind them. Each refusal is logged once, its text escaped, and the lines it dropped are
counted in :attr:`InfluxWriter.set_aside` (the recorder's gauge ``influx_set_aside``; points beyond retention are only logged). Other failures (InfluxDB down, 5xx, a
missing database, authentication) raise, and the callers try again.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import re
import time

import aiohttp

from influxdb_client import WritePrecision
from influxdb_client.rest import ApiException
from influxdb_client.client.influxdb_client_async import InfluxDBClientAsync

from hazmon.series import RAW_POLICY, by_policy
from hazmon.settings import Settings

from recorder.late_readings import LateSpans, aggregate_late
from recorder.retention import DAY_MS, RetentionError, beyond_retention, ensure_retention, reading_policies

log = logging.getLogger(__name__)
_DROPPED = re.compile(r"dropped=(\d+)")
_UNPARSABLE = "unable to parse"
LATE_AGGREGATION_S = 60.0              # how often late readings' aggregates are computed (recorder.late_readings)


def refused_lines(body: str) -> int:
    """Lines of a write that InfluxDB 1.8's 400 answer says it did not keep: its ``dropped=N`` count
    and each line it could not parse (at least one: a 400 always refused something). A lower bound:
    when a request has both, InfluxDB names only its type conflicts."""
    counted = sum(int(n) for n in _DROPPED.findall(body)) + body.count(_UNPARSABLE)
    return max(counted, 1)


class InfluxWriter:
    def __init__(self, settings: Settings, database: str | None = None) -> None:
        self.database = database or settings.influx_db
        self._settings = settings
        self._ensured = False                  # database and retention policies made (recorder.retention)
        self._batch = settings.alerting_influx_batch
        self._flush_s = settings.alerting_influx_flush_s
        self._queue_max = settings.alerting_influx_queue_max
        self.dropped = 0                       # lines dropped from a full queue since start
        self.set_aside = 0                     # lines InfluxDB refused (400) since start, never retried
        self._url = settings.influx_url.rstrip("/")
        token = f"{settings.influx_username}:{settings.influx_password}" if settings.influx_password else ""  # 1.8: "user:password"
        self._client = InfluxDBClientAsync(url=settings.influx_url, token=token, org="-", timeout=30_000)
        self._api = self._client.write_api()
        self._pending: list[str] = []
        self._writing = 0                      # lines of the flush in progress
        self._flushing = asyncio.Lock()        # one flush at a time: a caller's flush waits for the one under way
        self._wakeup = asyncio.Event()
        self._task: asyncio.Task | None = None
        self._late = LateSpans(settings.influx_raw_retention_days * DAY_MS)   # late raw readings, not yet aggregated
        self._late_task: asyncio.Task | None = None

    async def ensure_database(self) -> bool:
        """Create the database, its retention policies, the continuous queries that downsample readings
        and the policy choices of the dashboards, or bring them to the settings (idempotent, recorder.retention);
        False when InfluxDB is unreachable or refuses. Tried again before the next write.

        The recorder starts while InfluxDB is down (its topics wait in Kafka), so a failure here is logged, not raised.
        """
        try:
            async with aiohttp.ClientSession(headers=self._settings.influx_headers) as session:
                await ensure_retention(session, self._url, self.database, self._settings)
            self._ensured = True
            return True
        except (aiohttp.ClientError, TimeoutError, RetentionError) as exc:
            log.warning("influx database not ensured", extra={"database": self.database, "error": str(exc)})
            return False

    async def start(self) -> None:
        self._task = asyncio.create_task(self._flush_loop(), name="influx-flush")
        self._late_task = asyncio.create_task(self._late_loop(), name="influx-late-aggregation")

    async def close(self) -> None:
        for task in (self._task, self._late_task):
            if task is not None:
                task.cancel()
                await asyncio.gather(task, return_exceptions=True)
        await self.flush()
        await self.aggregate_late()
        await self._client.close()

    async def aggregate_late(self) -> None:
        """Aggregate the spans of the late readings written so far, per enterprise, as the continuous
        queries would have (recorder.late_readings); on failure the spans are kept for the next time."""
        spans = self._late.drain()
        if not spans:
            return
        try:
            async with aiohttp.ClientSession(headers=self._settings.influx_headers) as session:
                await aggregate_late(session, self._url, self.database, reading_policies(self._settings), spans)
        except (aiohttp.ClientError, TimeoutError, RetentionError) as exc:
            self._late.keep(spans)
            log.warning("late readings not aggregated, will retry", extra={"enterprises": len(spans), "error": str(exc)})

    async def write(self, lines: list[str]) -> None:
        """Write ``lines`` now, each into its retention policy, in batches of ``alerting_influx_batch``;
        lines InfluxDB refuses are set aside, other failures raise."""
        if not self._ensured:
            await self.ensure_database()
        for policy, policy_lines in by_policy(lines).items():
            for start in range(0, len(policy_lines), self._batch):
                chunk = policy_lines[start:start + self._batch]
                try:
                    await self._api.write(bucket=f"{self.database}/{policy}", org="-", record="\n".join(chunk),
                                          write_precision=WritePrecision.MS)  # type: ignore[arg-type]  # the client's constants are str
                except ApiException as exc:
                    if exc.status != 400:
                        raise
                    self._set_aside(policy, len(chunk), exc)
                if policy == RAW_POLICY:
                    self._late.note(chunk, int(time.time() * 1000))

    def _set_aside(self, policy: str, lines: int, exc: ApiException) -> None:
        """Log (once, escaped) and count what InfluxDB refused of a write of ``lines`` lines; it kept the rest.
        Points beyond their retention policy are only logged: dropping them is the policy's intent."""
        body = str(exc.body)
        refused = min(refused_lines(body), lines)
        if beyond_retention(exc):   # as the policy says: not a fault of the data
            log.info("influx dropped points older than their retention policy",
                     extra={"policy": policy, "points": refused, "error": repr(body[:500])})
        else:
            self.set_aside += refused
            log.error("influx refused lines, set aside", extra={"policy": policy, "lines": lines, "refused": refused,
                                                                 "set_aside": self.set_aside, "error": repr(body[:500])})

    @property
    def queued(self) -> int:
        """Lines submitted and not yet written (a flush in progress included)."""
        return len(self._pending) + self._writing

    def submit(self, lines: list[str]) -> None:
        """Queue ``lines`` for the background flush; never blocks."""
        self._pending.extend(lines)
        self._bound()
        if len(self._pending) >= self._batch:
            self._wakeup.set()

    def _bound(self) -> None:
        """Keep at most ``alerting_influx_queue_max`` lines queued: beyond it, drop the oldest (logged)."""
        excess = min(self.queued - self._queue_max, len(self._pending))
        if excess <= 0:
            return
        if not self.dropped:
            log.error("influx queue full, dropping its oldest lines", extra={"limit": self._queue_max})
        del self._pending[:excess]
        self.dropped += excess

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
                self._writing = 0
                self._bound()
                log.warning("influx write failed, will retry", extra={"lines": len(lines), "queued": self.queued,
                                                                      "dropped": self.dropped, "error": str(exc)})
            finally:
                self._writing = 0

    async def _late_loop(self) -> None:
        while True:
            await asyncio.sleep(LATE_AGGREGATION_S)
            await self.aggregate_late()

    async def _flush_loop(self) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self._flush_s):
                    await self._wakeup.wait()
            self._wakeup.clear()
            await self.flush()
