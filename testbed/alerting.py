"""Alarms for the alerting tests and benches: transition records as stream_rules emits them, a local HTTP
receiver, waiting for a condition, InfluxDB queried and written as the desk reads it and the recorder writes it."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable

import aiohttp
import orjson
from aiohttp import web

from hazmon.settings import Settings
from hazmon.wire import AlarmTransition, Rule, Transition

from recorder.influx import InfluxWriter

CHEM = "91433127MA4CHEM001"
MINE = "91433127MA4MINE002"
FIRE = "12433127MB1FIRE003"
T0 = 1_764_376_800_000  # 2025-11-29T00:40:00Z

_POINTS = {  # point → (enterprise, site, device)
    "TK01_LT": (CHEM, "TF01", "RTU01"), "TK01_TT": (CHEM, "TF01", "RTU01"), "TK01_PT": (CHEM, "TF01", "RTU01"),
    "WK01_WL": (MINE, "WK01", "GNSS1"), "WK01_DS1": (MINE, "WK01", "GNSS1"),
    "FAC1_Z07": (FIRE, "BLD1", "FAC1"), "BLD1_TANK": (FIRE, "BLD1", "FTU01"),
}


def transition(alarm_id: str, kind: Transition, point: str, *, rule: Rule = "limit", level: str | None = "high",
               value: float | None = 9.5, limit: float | None = 9.0, started_at: int | None = None, at: int = T0,
               message: str = "1号储罐液位高报警") -> AlarmTransition:
    enterprise, site, device = _POINTS[point]
    return AlarmTransition(v=1, id=alarm_id, transition=kind, enterprise=enterprise, site=site, device=device,
                           point=point, rule=rule, level=level, severity=2 if level in ("high_high", "red") else 1,
                           value=value, limit=limit, started_at=at if started_at is None else started_at, reading_ts=at, emitted_ms=at,
                           message=message, message_en=f"{point} {rule} {level}")


class Receiver:
    """A local HTTP endpoint that records JSON bodies; ``fail_next`` requests are answered 503, each answer is
    delayed by ``delay_s``, and ``raw`` (when set) is answered instead of the JSON ``answer``."""

    def __init__(self, answer: dict | None = None) -> None:
        self.bodies: list[dict] = []
        self.paths: list[str] = []
        self.fail_next = 0
        self.refused = 0
        self.delay_s = 0.0
        self.raw: bytes | None = None
        self._answer = answer or {"errcode": 0, "errmsg": "ok"}
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def _handle(self, request: web.Request) -> web.Response:
        await asyncio.sleep(self.delay_s)
        if self.fail_next > 0:
            self.fail_next -= 1
            self.refused += 1
            return web.Response(status=503, text="down")
        self.paths.append(request.path)
        self.bodies.append(orjson.loads(await request.read()))
        if self.raw is not None:
            return web.Response(body=self.raw, content_type="text/html")
        return web.json_response(self._answer)

    async def start(self) -> Receiver:
        app = web.Application()
        app.router.add_route("*", "/{tail:.*}", self._handle)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"   # the port the OS picked
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()


async def eventually(check: Callable[[], bool | Awaitable[bool]], timeout_s: float = 20.0, what: str = "") -> None:
    """Wait until ``check`` holds (the pipeline is asynchronous); fail naming ``what`` otherwise."""
    deadline = asyncio.get_running_loop().time() + timeout_s
    while True:
        result = check()
        if asyncio.iscoroutine(result):
            result = await result
        if result:
            return
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"timed out waiting for {what or check}")
        await asyncio.sleep(0.05)


async def query(settings: Settings, q: str) -> list[dict]:
    """Rows of InfluxQL ``q`` on the settings' database, times in ms."""
    async with aiohttp.ClientSession() as session, session.get(
            f"{settings.influx_url}/query", params={"db": settings.influx_db, "q": q, "epoch": "ms"}) as response:
        body = await response.json()
    series = body["results"][0].get("series", [])
    return [dict(zip(s["columns"], row)) for s in series for row in s["values"]]


async def write_influx(settings: Settings, lines: list[str]) -> None:
    """Write ``lines`` into the settings' database now, as the recorder does (policies made first)."""
    writer = InfluxWriter(settings)
    try:
        await writer.write(lines)
    finally:
        await writer.close()
