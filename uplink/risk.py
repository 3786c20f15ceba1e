"""§11 ``up/{county}/risk``: each enterprise's colour when it changes, and every enterprise's every 5 minutes.

The colours are alerting's, read where alerting writes them for everyone (§9: InfluxDB ``enterprise_risk``,
on every change and every ``alerting_risk_snapshot_s``), so the uplink needs nothing more from alerting.
A colour is a state, not a history: nothing of it is stored for an outage; the full round at each
connection and every 5 minutes brings the upper platform up to date (the upper side keeps the colour a county
sent last, whatever its time). An enterprise alerting has written no colour for goes up blue with
``RISK_NO_TIME``: it claims no moment, so the colour alerting writes next, at whatever time, follows it.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable

import aiohttp
import orjson

from hazmon import series, wire
from hazmon.exchange import RISK_NO_TIME
from hazmon.registry import Registry
from hazmon.settings import Settings

log = logging.getLogger(__name__)
POLL_S = 5.0
FULL_ROUND_S = 300.0   # §11: all enterprises every 5 min
# one selector: the other fields and the time are of the same, latest point
QUERY = (f'SELECT last("level") AS "level", "color", "active_alarms" FROM "{series.DEFAULT_POLICY}"."{series.ENTERPRISE_RISK}" '
         f'GROUP BY "{series.ENTERPRISE}"')
Colour = tuple[int, str, int]   # level, color, active alarms
BLUE: Colour = (0, "blue", 0)


def risk_message(county_id: str, enterprise: str, colour: Colour, ts: int) -> bytes:
    level, color, active = colour
    return orjson.dumps({"v": wire.WIRE_VERSION, "county": county_id, "enterprise": enterprise, "color": color,
                         "level": level, "active_alarms": active, "ts": ts})


class RiskForwarder:
    def __init__(self, settings: Settings, county_id: str) -> None:
        self.county_id = county_id
        self._settings = settings
        self.sent: dict[str, Colour] = {}

    async def colours(self) -> dict[str, tuple[Colour, int]]:
        """Each enterprise's latest colour and its time, as alerting last wrote it."""
        async with aiohttp.ClientSession(headers=self._settings.influx_headers) as session:
            async with session.get(f"{self._settings.influx_url}/query",
                                   params={"db": self._settings.influx_db, "q": QUERY, "epoch": "ms"}) as response:
                response.raise_for_status()
                body = await response.json(loads=orjson.loads)
        found: dict[str, tuple[Colour, int]] = {}
        for result in body["results"][0].get("series", []):
            ts, level, color, active = result["values"][0]
            found[result["tags"][series.ENTERPRISE]] = ((int(level), str(color), int(active)), int(ts))
        return found

    async def run(self, publish: Callable[[bytes], Awaitable[None]], registry: Callable[[], Registry]) -> None:
        """Publish the full round now and every 5 minutes, and the changes found every 5 seconds between."""
        loop = asyncio.get_running_loop()
        next_round = loop.time()
        while True:
            try:
                colours = await self.colours()
            except (aiohttp.ClientError, KeyError, ValueError, TypeError) as exc:
                log.warning("risk colours not readable, trying again", extra={"error": repr(exc)})
                colours = None
            if colours is not None:
                full = loop.time() >= next_round
                enterprises = set(registry().enterprises) | set(colours) if full else set(colours)
                for enterprise in sorted(enterprises):
                    colour, ts = colours.get(enterprise, (BLUE, RISK_NO_TIME))
                    if full or self.sent.get(enterprise) != colour:
                        await publish(risk_message(self.county_id, enterprise, colour, ts))
                        self.sent[enterprise] = colour
                if full:
                    next_round = loop.time() + FULL_ROUND_S
            await asyncio.sleep(POLL_S)
