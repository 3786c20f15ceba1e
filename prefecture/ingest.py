"""The prefecture's ingest of its counties' ``up`` topics (data standard §11): into its record (alarms,
versions, colours, heartbeats, registry summaries) and its InfluxDB (colours, heartbeats, readings).

One connection with the platform account, in a persistent session (``prefecture_client_id``): what the
counties publish while the prefecture is away waits at its broker, once the session exists (the broker
keeps nothing for a subscriber it has never seen: the prefecture runs before the counties connect). Messages are taken in batches of what
has arrived (at most ``prefecture_batch``, also the session's Receive Maximum) and applied to the record in
one transaction; a task of its own then writes each recorded batch's points to InfluxDB, batch after batch,
and only then acknowledges the batch, so a slow InfluxDB write holds no later alarm back from the record
while nothing is acknowledged before both have it. A failure of either ends the connection, and the next
one gets the unacknowledged batches again, which the record takes as repeats (docs/uplink.md).
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
import time

import aiohttp
import aiomqtt

from hazmon.exchange import UP_ALL
from hazmon.settings import Settings

from prefecture.broker import broker_client
from prefecture.influx import CountyInflux
from prefecture.record import CountyRecord
from prefecture.up_messages import UpRefused, UpSorter

log = logging.getLogger(__name__)


class UpIngest:
    def __init__(self, settings: Settings, record: CountyRecord, influx: CountyInflux) -> None:
        self._settings = settings
        self._record = record
        self._influx = influx
        self._counties = frozenset(settings.prefecture_counties)
        self.connections = 0
        self.versions = 0   # alarm versions new to the record
        self.repeats = 0    # alarm versions it already had (a county's round sent again)
        self.refused = 0
        self.subscribed = asyncio.Event()   # set once its session holds the subscription

    async def run(self) -> None:
        """Until cancelled: connect, take messages in, and after a failure connect again."""
        while True:
            try:
                async with broker_client(self._settings, self._settings.prefecture_client_id,
                                         self._settings.prefecture_batch) as client:
                    self.connections += 1
                    await self._serve(client)
            except (aiomqtt.MqttError, aiohttp.ClientError, sqlite3.Error, TimeoutError) as exc:
                log.warning("prefecture ingest down, connecting again", extra={"error": repr(exc)})
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise asyncio.CancelledError   # a stop met the failure (a disconnect's error replaced it): no retry
            await asyncio.sleep(self._settings.prefecture_retry_s)

    async def _serve(self, client: aiomqtt.Client) -> None:
        await client.subscribe(UP_ALL, qos=1)
        self.subscribed.set()
        log.info("prefecture ingest subscribed", extra={"port": self._settings.prefecture_broker_port})
        recorded: asyncio.Queue[tuple[list[aiomqtt.Message], list[str]]] = asyncio.Queue()
        writer = asyncio.create_task(self._write_and_ack(client, recorded), name="prefecture-influx")
        messages = aiter(client.messages)
        first: asyncio.Future[aiomqtt.Message] | None = None   # the next batch's first message, awaited with the writer
        try:
            while True:
                first = asyncio.ensure_future(anext(messages))
                await asyncio.wait({first, writer}, return_when=asyncio.FIRST_COMPLETED)
                if writer.done():
                    writer.result()   # its failure ends the connection
                batch = [await first]
                while len(client.messages) and len(batch) < self._settings.prefecture_batch:
                    batch.append(await anext(messages))
                recorded.put_nowait((batch, await self._apply(batch)))
        finally:
            pending: list[asyncio.Future] = [writer] if first is None else [writer, first]
            for task in pending:
                task.cancel()
            await asyncio.gather(*pending, return_exceptions=True)   # a disconnect's error in the iteration taken too

    async def _write_and_ack(self, client: aiomqtt.Client,
                             recorded: asyncio.Queue[tuple[list[aiomqtt.Message], list[str]]]) -> None:
        """Each recorded batch's points into InfluxDB, in order, then the batch acknowledged to the broker."""
        while True:
            batch, lines = await recorded.get()
            await self._influx.write(lines)
            for message in batch:
                client._client.ack(message.mid, message.qos)  # noqa: SLF001 - manual acks live on paho

    async def _apply(self, batch: list[aiomqtt.Message]) -> list[str]:
        """Record the batch (one transaction); its InfluxDB lines."""
        sorter = UpSorter(self._counties)
        for message in batch:
            payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            try:
                sorter.add(message.topic.value, payload)
            except UpRefused as refused:
                self.refused += 1
                log.warning("county message refused", extra={"topic": repr(message.topic.value), "reason": str(refused)})
        recorded = await self._record.record(sorter.batch, time.time_ns() // 1_000_000)
        self.versions += recorded.versions
        self.repeats += recorded.repeats
        return sorter.lines
