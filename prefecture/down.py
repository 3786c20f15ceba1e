"""The prefecture officers' actions down to their counties (§11 ``down/{county}/action``), from the record's
``actions``: each is marked sent once the prefecture's broker acknowledged it (PUBACK). The county's
uplink reads its down topic in a persistent session, so an action waits at the broker while the county's
link is down; an action taken while the prefecture's broker is away waits in the record and goes when it
is back. A repeat (sent, not yet marked, then a crash) is refused by the county's alarm book."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import secrets
import sqlite3
import time

import aiomqtt

from hazmon.exchange import down_action_topic
from hazmon.settings import Settings

from prefecture.broker import broker_client
from prefecture.record import Action, CountyRecord

log = logging.getLogger(__name__)
SWEEP_S = 5.0   # the record is looked at this often even when nobody wakes the sender
COMMENT_MAX = 1000   # as the county takes it (uplink.messages)


class DownSender:
    def __init__(self, settings: Settings, record: CountyRecord) -> None:
        self._settings = settings
        self._record = record
        self._wake = asyncio.Event()
        self.sent = 0

    async def sign(self, county: str, alarm_id: str, officer: str, comment: str) -> Action:
        """An officer's 签收 (API or desk): recorded, then sent down now; ActionRefused as the record refuses it."""
        action = await self._record.take_ack(f"pa-{secrets.token_hex(8)}", county, alarm_id, officer, comment,
                                             time.time_ns() // 1_000_000)
        self._wake.set()
        return action

    async def run(self) -> None:
        while True:
            try:
                async with broker_client(self._settings, f"{self._settings.prefecture_client_id}-down", 1) as client:
                    while True:
                        self._wake.clear()
                        await self._send(client)
                        with contextlib.suppress(TimeoutError):
                            async with asyncio.timeout(SWEEP_S):
                                await self._wake.wait()
            except (aiomqtt.MqttError, sqlite3.Error) as exc:
                log.warning("prefecture down link failed, connecting again", extra={"error": repr(exc)})
            if (task := asyncio.current_task()) is not None and task.cancelling():
                raise asyncio.CancelledError   # a stop met the failure (a disconnect's error replaced it): no retry
            await asyncio.sleep(self._settings.prefecture_retry_s)

    async def _send(self, client: aiomqtt.Client) -> None:
        for action in await self._record.unsent():
            await client.publish(down_action_topic(action.county), action.message(), qos=1)   # returns on its PUBACK
            await self._record.mark_sent([action.down["id"]], time.time_ns() // 1_000_000)
            self.sent += 1
            log.info("prefecture action sent down", extra={"county": action.county, "alarm": repr(action.down["alarm"]),
                                                           "by": repr(action.down["by"]), "action_id": action.down["id"]})
