"""Screenshots of the alarm page as officers see it, in headless Chromium at a desktop and a phone size.

The PNGs are written to ``docs/screenshots/`` (they are documentation, committed); the test checks
the page's words and that each picture is a real, non-trivial PNG. Chinese needs a CJK font
(``fonts-noto-cjk``, installed by ``./hz stack test-tools``), else it renders as boxes.
"""

from __future__ import annotations

import asyncio
import struct
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer
from selenium.common.exceptions import StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from tests.alerting.conftest import DUTY_TOKEN
from testbed.alerting import T0, eventually, transition
from tests.alerting.test_page import CODES, registry  # noqa: F401  (the fixture)

pytestmark = pytest.mark.servers
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP, PHONE = (1280, 900), (390, 844)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PLACE = "永顺县灵溪化工有限公司 1号储罐区 1号储罐液位"   # the texts as stream_rules composes them (§10)
ACTIVE = f"{PLACE}：高高限二级报警确认；当前值 10.8 m，限值 10.5 m；时间 2025-11-29 08:40:00"
FEEDBACK = f"{PLACE}：高高限二级报警恢复；当前值 10.2 m，限值 10.5 m；时间 2025-11-29 08:40:30"
TREND = (f"{PLACE}：趋势预警发生；变化速率 0.42 m/h；预计约21分钟后达到高高限二级限值；时间 2025-11-29 08:40:02")


def _shoot(browser: WebDriver, url: str, size: tuple[int, int], state: str, png: Path) -> str:
    """Open the alarm page with the duty token at ``size``, wait for ``state``, save a PNG; return the page's text."""
    browser.set_window_size(*size)
    browser.get(url)
    browser.find_element(By.ID, "token").clear()      # a previous page may have kept it in localStorage
    browser.find_element(By.ID, "token").send_keys(DUTY_TOKEN)
    browser.find_element(By.ID, "save-token").click()
    # the page renders the alarm once loaded and again after the token is saved: #state may be replaced under the wait
    WebDriverWait(browser, 15, ignored_exceptions=(StaleElementReferenceException,)).until(
        lambda b: b.find_element(By.ID, "state").get_attribute("data-state") == state)
    height = browser.execute_script("return document.documentElement.scrollHeight")
    browser.set_window_size(size[0], max(size[1], height + 140))     # the whole page, window chrome included
    png.parent.mkdir(parents=True, exist_ok=True)
    assert browser.save_screenshot(str(png))
    return browser.find_element(By.TAG_NAME, "body").text


def _assert_picture(png: Path, width: int) -> None:
    data = png.read_bytes()
    assert data[:8] == PNG_SIGNATURE and len(data) > 20_000, f"{png.name}: {len(data)} bytes"
    shot_width, _ = struct.unpack(">II", data[16:24])
    assert shot_width >= width * 0.9, f"{png.name} is {shot_width} px wide"


async def test_screenshots_of_the_alarm_page(start_service, produce, names, tokens, browser) -> None:  # noqa: F811
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [
        transition("shot-active", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, message=ACTIVE),
        transition("shot-feedback", "confirmed", "TK01_LT", level="high_high", value=10.9, limit=10.5,
                   at=T0 + 1_000, message=ACTIVE),
        transition("shot-feedback", "cleared", "TK01_LT", level="high_high", value=10.2, limit=10.5, at=T0 + 30_000,
                   started_at=T0 + 1_000, message=FEEDBACK),
        {**transition("shot-trend", "raised", "TK01_LT", rule="trend", level="high_high", value=10.15, limit=10.5,
                      at=T0 + 2_000, message=TREND),
         "extra": {"slope_per_h": 0.42, "time_to_limit_s": 1250.0, "next_level": "high_high"}},
    ])
    await eventually(lambda: (alarm := service.book.get("shot-feedback")) is not None and alarm.awaiting_feedback,
                     what="an active alarm and one awaiting feedback folded")
    await eventually(lambda: service.book.get("shot-trend") is not None, what="a trend warning folded")
    shots = [("shot-active", DESKTOP, "active", "alarm-page.png"),
             ("shot-active", PHONE, "active", "alarm-page-phone.png"),
             ("shot-feedback", DESKTOP, "cleared", "alarm-page-awaiting-feedback.png"),
             ("shot-trend", DESKTOP, "active", "alarm-page-trend.png")]
    async with TestServer(build_app(service, tokens)) as server:
        for alarm_id, size, state, name in shots:
            text = await asyncio.to_thread(_shoot, browser, str(server.make_url(f"/alarms/{alarm_id}")), size, state,
                                           SCREENSHOTS / name)
            assert "报警处置" in text and "签收" in text and "1号储罐液位" in text and "储罐液位" in text, text
            assert not [code for code in CODES if code in text], text     # names and words, never codes (§10)
            if alarm_id == "shot-trend":
                assert "趋势预警" in text and "0.42 m/h" in text and "约21分钟后达到二级报警限值" in text
                assert "限值\n10.5 m" in text and "设备时间\n2025-11-29 08:40:02" in text
            elif state == "active":
                assert "二级报警" in text and "状态：未签收" in text and "10.8 m" in text and "10.5 m" in text
            else:
                assert "二级报警" in text and "（待反馈）" in text and "10.2 m" in text
            _assert_picture(SCREENSHOTS / name, size[0])
