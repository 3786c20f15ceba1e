"""The alarm page in headless Chromium: open, acknowledge, close with a note, and see the state change."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support import expected_conditions
from selenium.webdriver.support.ui import Select, WebDriverWait

from hazmon.registry import Registry

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from tests.alerting.conftest import DUTY_TOKEN
from testbed.alerting import CHEM, T0, eventually, transition

pytestmark = pytest.mark.servers
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "desk"
CODES = (CHEM, "TF01", "TK01_LT", "RTU01", "high_high", "limit")   # §10: never shown unless asked for


@pytest.fixture
def registry(named_registry: Registry) -> Registry:
    """Points named in the registry, as §7 lets an enterprise name them: the page shows no id."""
    return named_registry


def _state_is(browser: WebDriver, state: str) -> None:
    WebDriverWait(browser, 15).until(expected_conditions.text_to_be_present_in_element_attribute(
        (By.ID, "state"), "data-state", state))


def _open_and_acknowledge(browser: WebDriver, url: str) -> str:
    browser.get(url)
    browser.find_element(By.ID, "token").send_keys(DUTY_TOKEN)
    browser.find_element(By.ID, "save-token").click()
    _state_is(browser, "active")
    shown = browser.find_element(By.ID, "alarm").text
    browser.find_element(By.ID, "officer").send_keys("王值班")
    browser.find_element(By.ID, "comment").send_keys("已电话通知企业，人员已到场")
    browser.find_element(By.ID, "ack").click()
    _state_is(browser, "acknowledged")
    return shown


def _error_after_close(browser: WebDriver) -> str:
    browser.execute_script("document.getElementById('error').textContent = ''")
    browser.find_element(By.ID, "close").click()
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.ID, "error").text != "")
    return browser.find_element(By.ID, "error").text


def _try_to_close(browser: WebDriver) -> tuple[str, str]:
    """Close without a cause (the page asks for one), then with 设备故障 chosen by its words (the lifecycle refuses)."""
    browser.find_element(By.ID, "note").send_keys("进料阀内漏，已更换阀门")
    without_cause = _error_after_close(browser)
    Select(browser.find_element(By.ID, "cause")).select_by_visible_text("设备故障")
    return without_cause, _error_after_close(browser)


async def test_officer_acknowledges_and_closes_in_the_page(start_service, produce, names, tokens, browser) -> None:
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [transition("p1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5)])
    await eventually(lambda: service.book.get("p1") is not None, what="alarm folded")
    async with TestServer(build_app(service, tokens)) as server:
        url = str(server.make_url("/alarms/p1"))
        shown = await asyncio.to_thread(_open_and_acknowledge, browser, url)
        assert "1号储罐液位高报警" in shown and "状态：未签收" in shown and "二级报警" in shown
        for words in ("永顺县灵溪化工有限公司", "1号储罐区", "1号储罐液位", "监测项\n储罐液位", "10.8 m", "10.5 m",
                      "设备时间\n2025-11-29 08:40:00"):
            assert words in shown, words
        assert not [code for code in CODES if code in shown], shown        # words, not codes (§10)
        assert service.book.get("p1").ack_comment == "已电话通知企业，人员已到场"
        assert service.book.get("p1").acked_by == "duty/王值班"

        choices = await asyncio.to_thread(lambda: browser.find_element(By.ID, "cause").text)
        assert choices.split() == ["请选择原因", "真实险情", "设备故障", "误报", "测试", "其他"]
        without_cause, refusal = await asyncio.to_thread(_try_to_close, browser)
        assert without_cause == "请选择原因"
        assert "不能关闭" in refusal and service.book.get("p1").state == "acknowledged"

        await produce(names.transitions, [transition("p1", "cleared", "TK01_LT", level="high_high", at=T0 + 30_000)])
        await eventually(lambda: service.book.get("p1").state == "cleared", what="cleared by data")
        await asyncio.to_thread(browser.set_window_size, 1000, 1400)
        await asyncio.to_thread(browser.execute_script, "document.getElementById('error').textContent = ''")
        await asyncio.to_thread(browser.save_screenshot, str(SCREENSHOTS / "alarm-close-form.png"))
        await asyncio.to_thread(browser.find_element(By.ID, "close").click)
        await asyncio.to_thread(_state_is, browser, "closed")
        await asyncio.to_thread(browser.save_screenshot, str(SCREENSHOTS / "alarm-closed-cause.png"))
        text = await asyncio.to_thread(lambda: browser.find_element(By.ID, "alarm").text)
        assert "状态：已关闭" in text and "进料阀内漏，已更换阀门" in text and "县应急管理局值班室 王值班" in text
        assert "原因\n设备故障" in text and "device_fault" not in text                # the cause by its words
        assert not [code for code in CODES if code in text], text
        closed = await service.ledger.alarm("p1")                                        # closed: in the ledger
        assert (closed.close_note, closed.close_cause) == ("进料阀内漏，已更换阀门", "device_fault")
