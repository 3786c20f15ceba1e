"""The live list's time filter and sort (issue 17) in headless Chromium on a real alerting service: 报警时间从/到 in
Beijing time, the 近 24 小时 / 近 7 天 presets counted from the service's clock, and the five orders.

The screenshot goes to ``docs/desk/``."""

from __future__ import annotations

import asyncio

import pytest
from aiohttp.test_utils import TestServer
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from testbed.alerting import T0, eventually, transition
from tests.alerting.test_desk import _rows, _shot, _sign_in, _until, _wait_rows, desk  # noqa: F401

pytestmark = pytest.mark.servers
DAY_MS = 86_400_000
NOW = T0 + 10 * DAY_MS             # 2025-12-09 08:40 in Beijing


def _ids(browser: WebDriver) -> list[str]:
    return list(_rows(browser))


def _set_time(browser: WebDriver, field: str, value: str) -> None:
    browser.execute_script("const f = document.getElementById(arguments[0]); f.value = arguments[1];"
                           "f.dispatchEvent(new Event('change'))", field, value)


def _expect(browser: WebDriver, expected: list[str]) -> None:
    """Wait until the list shows ``expected`` in that order; else fail with what it shows."""
    try:
        _until(browser, lambda b: _ids(b) == expected)
    except TimeoutException:
        raise AssertionError(f"the list shows {_ids(browser)}, not {expected}") from None


def _shown_after(browser: WebDriver, click: str, expected: list[str]) -> list[str]:
    browser.find_element(By.CSS_SELECTOR, click).click()
    _expect(browser, expected)
    return _ids(browser)


async def test_time_filter_presets_and_sort(start_service, produce, names, tokens, desk, browser) -> None:  # noqa: F811
    service = await start_service(ManualClock(NOW))
    await produce(names.transitions, [
        transition("hour", "confirmed", "TK01_LT", level="high", at=NOW - 3_600_000),
        transition("days3", "confirmed", "WK01_WL", level="red", value=411.6, limit=411.3, at=NOW - 3 * DAY_MS,
                   message="尾矿库库水位红色预警"),
        transition("days10", "confirmed", "TK01_TT", level="high", value=46.0, limit=45.0, at=NOW - 10 * DAY_MS,
                   message="1号储罐温度高报警"),
        transition("fire", "confirmed", "FAC1_Z07", rule="fire", level=None, value=None, limit=None,
                   at=NOW - 2 * DAY_MS, message="1号楼3层东走廊火警")])
    await eventually(lambda: len(service.book.alarms) == 4, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        await asyncio.to_thread(_sign_in, browser, base, "wang")
        assert await asyncio.to_thread(_wait_rows, browser, lambda r: len(r) == 4)
        assert await asyncio.to_thread(_ids, browser) == ["hour", "fire", "days3", "days10"]   # newest first

        # presets from the service's clock (2025-12-09 08:40 Beijing), not the browser's (a year later)
        assert await asyncio.to_thread(_shown_after, browser, "button.preset[data-hours='24']", ["hour"]) == ["hour"]
        since = await asyncio.to_thread(browser.execute_script, "return document.getElementById('filter-from').value")
        assert since == "2025-12-08T08:40"
        await asyncio.to_thread(_shown_after, browser, "button.preset[data-hours='168']", ["hour", "fire", "days3"])
        await asyncio.to_thread(_shown_after, browser, "button.preset[data-hours='0']", ["hour", "fire", "days3", "days10"])

        # from/to typed in Beijing time: 2025-12-05 00:00 to 2025-12-07 08:00 holds the mine's (12-06 08:40) only
        await asyncio.to_thread(_set_time, browser, "filter-from", "2025-12-05T00:00")
        await asyncio.to_thread(_set_time, browser, "filter-to", "2025-12-07T08:00")
        await asyncio.to_thread(_expect, browser, ["days3"])
        await asyncio.to_thread(_set_time, browser, "filter-to", "2025-12-06T08:40")   # to the minute, that minute included
        await asyncio.to_thread(_expect, browser, ["days3"])
        await asyncio.to_thread(_set_time, browser, "filter-to", "2025-12-06T08:39")
        await asyncio.to_thread(_expect, browser, [])
        await asyncio.to_thread(_set_time, browser, "filter-to", "")
        await asyncio.to_thread(_expect, browser, ["hour", "fire", "days3"])

        # a new alarm arriving inside the window shows; the time filter holds for the live pushes too
        await produce(names.transitions, [transition("new", "confirmed", "TK01_PT", level="high", at=NOW,
                                                     message="1号储罐压力高报警")])
        await asyncio.to_thread(_expect, browser, ["new", "hour", "fire", "days3"])

        # sort: most severe (fire, then red, then by time), oldest first, by enterprise, unsigned first
        sort = await asyncio.to_thread(browser.find_element, By.ID, "sort")
        await asyncio.to_thread(Select(sort).select_by_value, "severity")
        await asyncio.to_thread(_expect, browser, ["fire", "days3", "new", "hour"])
        await asyncio.to_thread(_shot, browser, "desk-time-filter-sort.png")
        await asyncio.to_thread(Select(sort).select_by_value, "oldest")
        await asyncio.to_thread(_expect, browser, ["days3", "fire", "hour", "new"])
        await asyncio.to_thread(Select(sort).select_by_value, "enterprise")      # 灵溪化工, 青天坪矿业, 人民医院: pinyin
        await asyncio.to_thread(_expect, browser, ["new", "hour", "days3", "fire"])
        await service.act({"v": 1, "action_id": "ack-hour", "action": "ack", "enterprise": service.book.get("hour").enterprise,
                           "ts": NOW, "by": "duty/王值班", "alarm": "hour", "comment": "已核实"})
        await asyncio.to_thread(Select(sort).select_by_value, "unsigned")
        await asyncio.to_thread(_expect, browser, ["new", "fire", "days3", "hour"])


async def test_the_list_draws_its_first_hundred_and_more_on_request(start_service, produce, names, tokens, desk,  # noqa: F811
                                                                     browser) -> None:
    service = await start_service(ManualClock(NOW))
    await produce(names.transitions, [transition(f"p{i:03d}", "confirmed", "TK01_LT", at=NOW - i * 60_000)
                                      for i in range(150)])
    await eventually(lambda: len(service.book.alarms) == 150, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        await asyncio.to_thread(_sign_in, browser, str(server.make_url("")).rstrip("/"), "wang")
        await asyncio.to_thread(_expect, browser, [f"p{i:03d}" for i in range(100)])          # newest first, 100 drawn
        assert await asyncio.to_thread(lambda: browser.find_element(By.ID, "count").text) == "150"
        more = await asyncio.to_thread(browser.find_element, By.ID, "more")
        assert await asyncio.to_thread(lambda: more.text) == "显示更多（100 / 150）"
        await asyncio.to_thread(more.click)
        await asyncio.to_thread(_expect, browser, [f"p{i:03d}" for i in range(150)])
        assert not await asyncio.to_thread(more.is_displayed)
