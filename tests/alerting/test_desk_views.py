"""The duty desk's next parts (issue 17) in headless Chromium on a real alerting service, Kafka and InfluxDB:
the 待反馈 filter of the live list, 屏蔽 from the desk with the API's refusals shown as worded, and the
enterprise view (current values from InfluxDB, 在线率, refusals by reason, open alarms), reached from the map.

Screenshots of what officers see go to ``docs/desk/``."""

from __future__ import annotations

import asyncio

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from hazmon import series
from hazmon.registry import PointType

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition, write_influx
from tests.alerting.test_desk import PASSWORD, _rows, _shot, _sign_in, _until, _wait_rows, desk  # noqa: F401

pytestmark = pytest.mark.servers
NOW = T0 + 60_000
CODES = (CHEM, MINE, FIRE, "TK01_LT", "TK01_TT", "FAC1_Z07", "high_high", "false_alarm", "bad_value")


def _text(browser: WebDriver, css: str = "body") -> str:
    return browser.find_element(By.CSS_SELECTOR, css).text


def _submit_suppression(browser: WebDriver, point: str, reason: str, until: str | None) -> None:
    browser.execute_script("document.getElementById('error').textContent = ''")
    Select(browser.find_element(By.ID, "suppress-point")).select_by_value(point)
    field = browser.find_element(By.ID, "suppress-reason")
    field.clear()
    field.send_keys(reason)
    if until is not None:
        browser.execute_script("document.getElementById('suppress-until').value = arguments[0]", until)
    browser.find_element(By.CSS_SELECTOR, "#suppress button").click()


def _refusal(browser: WebDriver, point: str, reason: str, until: str | None = None) -> str:
    _submit_suppression(browser, point, reason, until)
    _until(browser, lambda b: b.find_element(By.ID, "error").text != "")
    return _text(browser, "#error")


async def test_awaiting_feedback_filter_and_suppression_from_the_desk(start_service, produce, names, tokens, desk,  # noqa: F811
                                                                        browser) -> None:
    service = await start_service(ManualClock(NOW))
    await produce(names.transitions, [
        transition("a1", "confirmed", "TK01_LT", level="high", value=9.4, limit=9.0),
        transition("w1", "confirmed", "TK01_TT", level="high_high", value=66.0, limit=65.0, at=T0 + 1_000,
                   message="1号储罐温度高高报警"),
        transition("w1", "cleared", "TK01_TT", level="high_high", value=58.0, limit=65.0, at=T0 + 30_000,
                   started_at=T0 + 1_000, message="1号储罐温度高高报警")])
    await eventually(lambda: (w := service.book.get("w1")) is not None and w.awaiting_feedback, what="待反馈 folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        await asyncio.to_thread(_sign_in, browser, base, "wang")
        await asyncio.to_thread(_wait_rows, browser, lambda r: {"a1", "w1"} <= set(r))
        assert await asyncio.to_thread(_text, browser, "#feedback-count") == "1"
        await asyncio.to_thread(browser.find_element(By.ID, "filter-feedback").click)
        rows = await asyncio.to_thread(_wait_rows, browser, lambda r: set(r) == {"w1"})
        assert "已恢复（待反馈）" in rows["w1"] and "1号储罐温度高高报警" in rows["w1"]
        assert "1号储罐区 / 1号储罐温度" in rows["w1"] and "TK01_TT" not in rows["w1"]      # by its name, no id (§10)
        await asyncio.to_thread(_shot, browser, "desk-awaiting-feedback.png")
        link = await asyncio.to_thread(browser.execute_script,       # one look: the list re-renders at every change
                                       "return document.querySelector('tr[data-id=w1] td a').href")
        assert link.endswith(f"/desk/enterprises/{CHEM}")             # the enterprise's name opens its view

        # 屏蔽: each refusal of the API as it words it, then one that holds, listed with who set it and until when
        await asyncio.to_thread(browser.get, f"{base}/desk/suppressions")
        assert "当前没有生效的屏蔽" in await asyncio.to_thread(_text, browser)
        until = await asyncio.to_thread(browser.execute_script, "return document.getElementById('suppress-until').value")
        assert until == "2025-11-29T16:41"                              # 8 h ahead, Beijing time in a UTC browser
        assert "火警点位不能屏蔽" in await asyncio.to_thread(_refusal, browser, f"{FIRE}/FAC1_Z07", "探测器更换")
        assert "屏蔽必须填写原因" in await asyncio.to_thread(_refusal, browser, f"{CHEM}/TK01_LT", "")
        too_long = await asyncio.to_thread(_refusal, browser, f"{CHEM}/TK01_LT", "液位计校准", "2025-12-03T08:41")
        assert "屏蔽最长 72 小时" in too_long
        assert not service.book.suppressions
        await asyncio.to_thread(_submit_suppression, browser, f"{CHEM}/TK01_LT", "液位计校准", "2025-11-29T16:40")
        await asyncio.to_thread(_until, browser, lambda b: b.find_elements(By.CSS_SELECTOR, "tr.suppression"))
        listed = await asyncio.to_thread(_text, browser, "#suppressions")
        for words in ("永顺县灵溪化工有限公司", "1号储罐区 / 1号储罐液位", "液位计校准", "县应急管理局值班室 王值班 (wang)",
                      "2025-11-29 16:40:00"):
            assert words in listed, words
        assert not [code for code in CODES if code in await asyncio.to_thread(_text, browser)]
        (held,) = service.book.suppressions_at(NOW)
        assert (held.point, held.by, held.expires_at) == ("TK01_LT", "duty/王值班 (wang)", T0 + 8 * 3_600_000)
        await asyncio.to_thread(_shot, browser, "desk-suppressions.png")

        # a town's account sees the list and no form (屏蔽 is the duty desk's alone, §8)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as town:
            async with town.post(server.make_url("/desk/login"), data={"name": "lingxi", "password": PASSWORD},
                                 headers={"Origin": base}, allow_redirects=False) as signed:
                assert signed.status == 303
            async with town.get(server.make_url("/desk/suppressions")) as page:
                html = await page.text()
        assert "液位计校准" in html and 'id="suppress"' not in html and "只有县应急管理局值班室可以设置屏蔽" in html


async def test_enterprise_view_from_the_map(start_service, produce, names, tokens, desk, browser) -> None:  # noqa: F811
    service = await start_service(ManualClock(NOW))
    chem_points = {p: e for (owner, p), e in service.registry.points.items() if owner == CHEM}
    fresh, stale = "TK01_LT", "TK01_TT"                 # one read 20 s ago, one an hour ago (period 10 s: offline)
    await write_influx(service.settings, [
        f"{series.reading_prefix(CHEM, 'TK01', fresh, 'tank_level')}9.42 {NOW - 20_000}",
        f"{series.reading_prefix(CHEM, 'TK01', stale, 'temperature')}31.5 {NOW - 3_600_000}",
        series.ingest_stats_line({"enterprise": CHEM, "accepted": 100, "refused": {"bad_value": 3, "unknown_point": 1},
                                     "window_end_ms": NOW - 600_000}),
        series.ingest_stats_line({"enterprise": CHEM, "accepted": 90, "refused": {"bad_value": 2},
                                     "window_end_ms": NOW - 300_000})])
    await produce(names.transitions, [transition("a1", "confirmed", fresh, level="high", value=9.42, limit=9.0)])
    await eventually(lambda: service.book.get("a1") is not None, what="alarm folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        await asyncio.to_thread(_sign_in, browser, base, "lingxi")
        await asyncio.to_thread(browser.get, f"{base}/desk/map")
        await asyncio.to_thread(lambda: browser.find_element(By.CSS_SELECTOR, f'a.enterprise[data-enterprise="{CHEM}"] circle')
                                .click())
        await asyncio.to_thread(_until, browser, lambda b: b.current_url.endswith(f"/desk/enterprises/{CHEM}"))
        await asyncio.to_thread(_until, browser, lambda b: b.find_elements(By.ID, "quality"))
        page = await asyncio.to_thread(_text, browser)
        points = dict(await asyncio.to_thread(browser.execute_script, "return [...document.querySelectorAll('tr.point')]"
                                              ".map(tr => [tr.cells[0].innerText, tr.innerText])"))
        assert len(points) == len(chem_points)
        assert "9.42 m" in points["1号储罐液位"] and "2025-11-29 08:40:40" in points["1号储罐液位"]
        assert "一级报警（未签收）" in points["1号储罐液位"]
        assert "31.5 °C" in points["1号储罐温度"] and "离线" in points["1号储罐温度"]
        assert "无数据" in points["1号储罐压力"]
        assert f"在线率：{100 / len(chem_points):.0f}%（1 个点位在线，共 {len(chem_points)}）" in page
        assert "近 24 小时拒收：数值无效 5；点位未登记 1" in page
        assert "永顺县灵溪化工有限公司" in page and "当前风险：黄" in page and "1号储罐液位高报警" in page
        assert not [code for code in CODES if code in page], page
        await asyncio.to_thread(_shot, browser, "desk-enterprise.png")

        # 值班日报 of that day: 联网率 and 在线率 of the town's points (2 sent that day, 1 online now)
        await asyncio.to_thread(browser.get, f"{base}/desk/report?day=2025-11-29")
        table = await asyncio.to_thread(_text, browser, "#connectivity")
        n = sum(1 for e in service.registry.points.values() if e.point.type is not PointType.FIRE_DETECTOR
                and service.registry.enterprises[e.enterprise].enterprise.town == "灵溪镇")   # the town's, readings only
        assert f"全县 {100 * 2 / n:.1f}%（2/{n}） {100 / n:.1f}%（1/{n}） 1/2" in table, table
        assert f"乡镇：灵溪镇 {100 * 2 / n:.1f}%（2/{n}）" in table and "青天坪镇" not in table
        await asyncio.to_thread(_shot, browser, "desk-report-connectivity.png")

        # 属地: the town's account may not open another town's enterprise, nor a made-up one
        for other in (MINE, "NOSUCH"):
            await asyncio.to_thread(browser.get, f"{base}/desk/enterprises/{other}")
            assert "没有这家企业" in await asyncio.to_thread(_text, browser)

        # the enterprise's own account sees the same page for itself, and no other enterprise's
        await asyncio.to_thread(desk.accounts.add, "chem", "enterprise", PASSWORD, "灵溪化工安全员", CHEM)
        async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as own:
            async with own.post(server.make_url("/desk/login"), data={"name": "chem", "password": PASSWORD},
                                headers={"Origin": base}, allow_redirects=False) as signed:
                assert signed.status == 303
            async with own.get(server.make_url(f"/desk/enterprises/{CHEM}")) as page_of_its_own:
                assert page_of_its_own.status == 200 and "9.42 m" in await page_of_its_own.text()
            async with own.get(server.make_url(f"/desk/enterprises/{FIRE}")) as neighbour:
                assert neighbour.status == 404                    # the hospital, same town: not its to see
