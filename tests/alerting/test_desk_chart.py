"""The alarm page's chart of its point's readings (issue 17) on a real alerting service and the real InfluxDB, seen in
headless Chromium: the readings around the alarm with the point's limits, unit and Beijing time; scoped like the API.

The screenshot goes to ``docs/desk/``."""

from __future__ import annotations

import asyncio
import re

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By

from hazmon import series
from alerting.api.routes import build_app
from alerting.clock import ManualClock
from alerting.desk.readings import Readings
from testbed.alerting import CHEM, MINE, T0, eventually, transition, write_influx
from tests.alerting.test_desk import PASSWORD, _shot, _sign_in, _until, desk  # noqa: F401

pytestmark = pytest.mark.servers
NOW = T0 + 15 * 60_000


async def _session(server: TestServer, name: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(server.make_url("/desk/login"), data={"name": name, "password": PASSWORD},
                         headers={"Origin": str(server.make_url("")).rstrip("/")}, allow_redirects=False) as signed:
        assert signed.status == 303
    return http


async def test_the_alarm_page_charts_the_points_readings_from_influxdb(start_service, produce, names, tokens, desk,  # noqa: F811
                                                                        browser) -> None:
    service = await start_service(ManualClock(NOW))
    level = series.reading_prefix(CHEM, "TF01", "TK01_LT", "tank_level")
    shown = [(T0 + s * 1000, round(8.0 + 1.6 * (s + 1800) / 2400, 3)) for s in range(-1800, 601, 10)]   # 08:10 → 08:50
    shown[60] = (shown[60][0], 11.2)                                              # one spike at 08:20
    await write_influx(service.settings, [f"{level}{v!r} {ts}" for ts, v in shown]
                               + [f"{level}3.0 {T0 - 2 * 3_600_000}",                           # long before: not drawn
                                  f"{series.reading_prefix(CHEM, 'TF01', 'TK01_TT', 'temperature')}99.0 {T0}"])
    await produce(names.transitions, [transition("a1", "confirmed", "TK01_LT", level="high", value=9.2, limit=9.0),
                                      transition("m1", "confirmed", "WK01_WL", level="orange", message="尾矿库库水位橙色预警")])
    await eventually(lambda: service.book.get("m1") is not None, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        await asyncio.to_thread(_sign_in, browser, base, "wang")
        await asyncio.to_thread(browser.get, f"{base}/alarms/a1")
        await asyncio.to_thread(_until, browser, lambda b: b.execute_script(
            "const i = document.querySelector('#readings img'); return i && i.complete && i.naturalWidth > 0"))
        await asyncio.to_thread(_until, browser, lambda b: b.find_elements(By.ID, "state"))
        await asyncio.to_thread(browser.execute_script, "document.getElementById('readings').scrollIntoView()")
        await asyncio.to_thread(_shot, browser, "alarm-readings-chart.png")

        duty = await _session(server, "wang")
        async with duty.get(server.make_url("/desk/alarms/a1/readings.svg")) as answer:
            assert answer.status == 200 and answer.content_type == "image/svg+xml"
            svg = await answer.text()
        for words in ("储罐液位（1号储罐区）", "一级报警上限 9 m", "二级报警上限 10.5 m", "北京时间 2025-11-29", ">08:10<",
                      ">08:40<", ">08:50<", ">报警<"):
            assert words in svg, words
        points = re.search(r'class="readings" points="([^"]+)"', svg) or re.search(r'points="([^"]+)" fill="none"', svg)
        assert points is not None
        drawn = [tuple(map(float, p.split(","))) for p in points.group(1).split()]
        assert len(drawn) == len([ts for ts, _ in shown if ts <= NOW])     # the window's readings, none older, none later
        limit_y = float(re.search(r'data-value="9"><line [^>]*y1="([\d.]+)"', svg).group(1))
        assert drawn[0][1] > limit_y > drawn[-1][1]                      # 8.0 m under the 9 m line, 9.4 m above it
        # a long window is read as buckets' minimum and maximum: the spike is kept
        readings = Readings(service.settings.influx_url, service.settings.influx_headers, service.settings.influx_db)
        buckets = await readings.window(CHEM, "TK01_LT", T0 - 1_800_000, NOW - 1, bucket_ms=600_000)
        assert len(buckets) == 2 * 5 and max(v for _, v in buckets) == 11.2 and min(v for _, v in buckets) == 8.0
        async with duty.get(server.make_url("/desk/alarms/m1/readings.svg")) as no_readings:
            assert "该时段无读数" in await no_readings.text()
        async with duty.get(server.make_url("/desk/alarms/nosuch/readings.svg")) as unknown:
            assert unknown.status == 404
        await duty.close()

        town = await _session(server, "lingxi")                          # 灵溪镇: the mine is another town's
        async with town.get(server.make_url("/desk/alarms/m1/readings.svg")) as other:
            assert other.status == 404 and MINE not in await other.text()
        await town.close()
