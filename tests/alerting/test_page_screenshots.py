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
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from tests.alerting.conftest import DUTY_TOKEN
from tests.alerting.support import T0, eventually, transition
from tests.alerting.test_page import browser  # noqa: F401  (the fixture)

pytestmark = pytest.mark.servers
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "screenshots"
DESKTOP, PHONE = (1280, 900), (390, 844)
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _shoot(browser: WebDriver, url: str, size: tuple[int, int], state: str, png: Path) -> str:
    """Open the alarm page with the duty token at ``size``, wait for ``state``, save a PNG; return the page's text."""
    browser.set_window_size(*size)
    browser.get(url)
    browser.find_element(By.ID, "token").clear()      # a previous page may have kept it in localStorage
    browser.find_element(By.ID, "token").send_keys(DUTY_TOKEN)
    browser.find_element(By.ID, "save-token").click()
    WebDriverWait(browser, 15).until(lambda b: b.find_element(By.ID, "state").get_attribute("data-state") == state)
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
        transition("shot-active", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5),
        transition("shot-feedback", "confirmed", "TK01_LT", level="high_high", value=10.9, limit=10.5,
                   at=T0 + 1_000, message="1号储罐液位高高报警"),
        transition("shot-feedback", "cleared", "TK01_LT", level="high_high", value=10.2, limit=10.5, at=T0 + 30_000,
                   started_at=T0 + 1_000, message="1号储罐液位高高报警"),
    ])
    await eventually(lambda: (alarm := service.book.get("shot-feedback")) is not None and alarm.awaiting_feedback,
                     what="an active alarm and one awaiting feedback folded")
    shots = [("shot-active", DESKTOP, "active", "alarm-page.png"),
             ("shot-active", PHONE, "active", "alarm-page-phone.png"),
             ("shot-feedback", DESKTOP, "cleared", "alarm-page-awaiting-feedback.png")]
    async with TestServer(build_app(service, tokens)) as server:
        for alarm_id, size, state, name in shots:
            text = await asyncio.to_thread(_shoot, browser, str(server.make_url(f"/alarms/{alarm_id}")), size, state,
                                           SCREENSHOTS / name)
            assert "报警处置" in text and "签收" in text and "high_high" not in text, text
            assert "二级（高高）" in text and "限值报警" in text
            if state == "active":
                assert "1号储罐液位高报警" in text and "状态：未签收" in text
            else:
                assert "1号储罐液位高高报警" in text and "（待反馈）" in text
            _assert_picture(SCREENSHOTS / name, size[0])
