"""The prefecture's InfluxDB (its own database, ``influx_db``): the counties' colours, heartbeats and readings
(measurements ``county_risk``, ``county_heartbeat``, ``county_reading``, tag ``county``)."""

from __future__ import annotations

import logging

import aiohttp

from hazmon.settings import Settings

log = logging.getLogger(__name__)


class CountyInflux:
    def __init__(self, settings: Settings) -> None:
        self._settings = settings
        self._session: aiohttp.ClientSession | None = None

    async def start(self) -> None:
        self._session = aiohttp.ClientSession(headers=self._settings.influx_headers,
                                              timeout=aiohttp.ClientTimeout(total=30))
        async with self._session.post(f"{self._settings.influx_url}/query",
                                      data={"q": f'CREATE DATABASE "{self._settings.influx_db}"'}) as response:
            response.raise_for_status()

    async def close(self) -> None:
        if self._session is not None:
            await self._session.close()

    async def write(self, lines: list[str]) -> None:
        """Write the lines (precision ms). Points InfluxDB refuses for good (400: a field of another type) are
        logged and dropped, as a repeat would be refused again; aiohttp.ClientError when it is failing."""
        if not lines:
            return
        assert self._session is not None, "start() first"
        async with self._session.post(f"{self._settings.influx_url}/write",
                                      params={"db": self._settings.influx_db, "precision": "ms"},
                                      data="\n".join(lines).encode()) as response:
            if response.status == 400:
                log.warning("county points refused by InfluxDB", extra={"lines": len(lines),
                                                                        "error": repr((await response.text())[:300])})
                return
            response.raise_for_status()
