"""The prefecture process (``hazmon prefecture run``): its record, the ingest of the counties' ``up`` topics,
the down sender of its officers' actions, and its API, until stopped (docs/uplink.md)."""

from __future__ import annotations

import asyncio
import logging

from aiohttp import web

from hazmon.errors import UserError
from hazmon.settings import Settings

from prefecture.api import build_app
from prefecture.down import DownSender
from prefecture.influx import CountyInflux
from prefecture.ingest import UpIngest
from prefecture.record import CountyRecord

log = logging.getLogger(__name__)


class Prefecture:
    def __init__(self, settings: Settings) -> None:
        if not settings.prefecture_counties:
            raise UserError("the prefecture needs HAZMON_PREFECTURE_COUNTIES (county id → name, JSON)")
        if settings.prefecture_platform_password is None:
            raise UserError("the prefecture needs HAZMON_PREFECTURE_PLATFORM_PASSWORD (its account on its broker)")
        self.settings = settings
        self.record = CountyRecord(settings.prefecture_record_path)
        self.influx = CountyInflux(settings)
        self.ingest = UpIngest(settings, self.record, self.influx)
        self.down = DownSender(settings, self.record)
        self._runner: web.AppRunner | None = None
        self._tasks: list[asyncio.Task] = []

    async def start(self) -> None:
        await self.influx.start()
        self._runner = web.AppRunner(build_app(self.settings, self.record, self.down))
        await self._runner.setup()
        await web.TCPSite(self._runner, self.settings.prefecture_api_host, self.settings.prefecture_api_port).start()
        self._tasks = [asyncio.create_task(self.ingest.run(), name="prefecture-ingest"),
                       asyncio.create_task(self.down.run(), name="prefecture-down")]
        log.info("prefecture up", extra={"counties": len(self.settings.prefecture_counties),
                                         "api_port": self.settings.prefecture_api_port})

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)   # a cancel of this stop itself is not swallowed
        if self._runner is not None:
            await self._runner.cleanup()
        await self.influx.close()
        self.record.close()
