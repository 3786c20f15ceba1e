"""The duty desk (issue 17) in headless Chromium on a real alerting service: sign-in, the live list, the
sound flag, 签收 one and many, and what a session may not do (CSRF, the prefecture's read-only view).

Screenshots of what officers see go to ``docs/desk/``."""

from __future__ import annotations

import asyncio
import base64
import time
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from alerting.desk.accounts import Accounts
from alerting.desk.handover import Handovers
from alerting.desk.source import DeskStores
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition

pytestmark = pytest.mark.servers
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "desk"
PASSWORD = "desk-password-2026"


@pytest.fixture
def desk(tmp_path: Path) -> DeskStores:
    stores = DeskStores(Accounts(tmp_path / "desk.sqlite3"), Handovers(tmp_path / "desk.sqlite3"))
    stores.accounts.add("wang", "duty", PASSWORD, display_name="王值班")
    stores.accounts.add("li", "duty", PASSWORD, display_name="李值班")
    stores.accounts.add("zhou", "prefecture", PASSWORD, display_name="州值班")
    stores.accounts.add("lingxi", "town", PASSWORD, display_name="灵溪镇值班", town="灵溪镇")
    yield stores
    stores.close()


def _sign_in(browser: WebDriver, base: str, name: str) -> None:
    browser.set_window_size(1400, 900)
    browser.get(f"{base}/desk")
    WebDriverWait(browser, 15).until(lambda b: "/desk/login" in b.current_url)
    browser.find_element(By.NAME, "name").send_keys(name)
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 15).until(lambda b: b.find_elements(By.ID, "alarms"))


def _rows(browser: WebDriver) -> dict[str, str]:
    """The list's rows as the officer reads them, in one look (the list re-renders at every change)."""
    pairs = browser.execute_script("return [...document.querySelectorAll('#alarms tr')].map(tr => [tr.dataset.id, tr.innerText])")
    return dict(pairs)


def _wait_rows(browser: WebDriver, predicate, timeout_s: float = 15) -> dict[str, str]:
    WebDriverWait(browser, timeout_s, poll_frequency=0.02).until(lambda b: predicate(_rows(b)))
    return _rows(browser)


def _until(browser: WebDriver, condition: Callable[[WebDriver], object], timeout_s: float = 15) -> None:
    """Wait in the browser's thread: the test's event loop serves the pages meanwhile."""
    WebDriverWait(browser, timeout_s, poll_frequency=0.05).until(condition)


def _shot(browser: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / name))


@asynccontextmanager
async def _signed_in_with_two_alarms(start_service, produce, names, tokens, desk: DeskStores,
                                     browser: WebDriver) -> AsyncIterator[str]:
    """A service holding the mine's red tailings warning (m1) and the chemical plant's first-level alarm (a1),
    its desk signed in as 王值班 in ``browser``; yields the desk's base URL."""
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [
        transition("m1", "confirmed", "WK01_WL", rule="limit", level="red", value=411.6, limit=411.3, message="尾矿库库水位红色预警"),
        transition("a1", "confirmed", "TK01_LT", level="high", value=9.4, limit=9.0)])
    await eventually(lambda: service.book.get("a1") is not None, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        await asyncio.to_thread(_sign_in, browser, base, "wang")
        yield base


async def test_sign_in_live_list_sound_and_acknowledge(start_service, produce, names, tokens, desk, browser) -> None:
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [transition("a1", "confirmed", "TK01_LT", level="high", value=9.4, limit=9.0)])
    await eventually(lambda: service.book.get("a1") is not None, what="alarm folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        await asyncio.to_thread(browser.get, f"{base}/desk/login")
        await asyncio.to_thread(browser.find_element(By.NAME, "name").send_keys, "wang")
        await asyncio.to_thread(browser.find_element(By.NAME, "password").send_keys, "wrong-password")
        await asyncio.to_thread(browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
        assert "账号或密码不正确" in await asyncio.to_thread(lambda: browser.find_element(By.CLASS_NAME, "error").text)
        await asyncio.to_thread(_shot, browser, "desk-login.png")

        await asyncio.to_thread(_sign_in, browser, base, "wang")
        rows = await asyncio.to_thread(_wait_rows, browser, lambda r: "a1" in r)
        assert "1号储罐液位高报警" in rows["a1"] and "永顺县灵溪化工有限公司" in rows["a1"] and CHEM not in rows["a1"]
        assert await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "body").get_attribute("data-sound")) == "off"

        # a fire comes in: on the list while the page is open, and the desk sounds until someone signs
        sent = time.monotonic()
        await produce(names.transitions, [transition("f1", "confirmed", "FAC1_Z07", rule="fire", level=None, value=None,
                                                     limit=None, message="1号楼3层东走廊火警")])
        rows = await asyncio.to_thread(_wait_rows, browser, lambda r: "f1" in r)
        shown_after_s = time.monotonic() - sent
        assert "火警" in rows["f1"] and "永顺县人民医院" in rows["f1"] and FIRE not in rows["f1"]
        body = await asyncio.to_thread(browser.find_element, By.TAG_NAME, "body")
        assert await asyncio.to_thread(body.get_attribute, "data-sound") == "on"
        assert await asyncio.to_thread(lambda: browser.find_element(By.ID, "banner").is_displayed())
        await asyncio.to_thread(_shot, browser, "desk-live-fire.png")
        print(f"fire on the desk {shown_after_s:.3f} s after it was produced to Kafka")   # figure for docs/desk.md

        # 签收 the fire: attributed to the account, the sound stops
        await asyncio.to_thread(browser.find_element(By.ID, "ack-comment").send_keys, "已通知医院保卫科核实")
        await asyncio.to_thread(browser.find_element(By.CSS_SELECTOR, "button.ack[data-id=f1]").click)
        await eventually(lambda: service.book.get("f1").acked_at is not None, what="fire signed")
        assert service.book.get("f1").acked_by == "duty/王值班 (wang)"
        assert service.book.get("f1").ack_comment == "已通知医院保卫科核实"
        await asyncio.to_thread(_until, browser, lambda b: b.find_element(By.TAG_NAME, "body").get_attribute("data-sound") == "off")

        # bulk 签收 of everything still unsigned
        await produce(names.transitions, [transition("a2", "confirmed", "TK01_TT", level="high", value=61.0, limit=60.0,
                                                     message="1号储罐温度高报警")])
        await asyncio.to_thread(_wait_rows, browser, lambda r: "a2" in r)
        await asyncio.to_thread(browser.find_element(By.ID, "select-all").click)
        await asyncio.to_thread(browser.find_element(By.ID, "ack-selected").click)
        await eventually(lambda: all(service.book.get(a).acked_at is not None for a in ("a1", "a2")), what="bulk signed")
        await asyncio.to_thread(_shot, browser, "desk-signed.png")


async def test_a_session_cannot_act_without_the_pages_csrf_token_nor_as_the_prefecture(
        start_service, produce, names, tokens, desk) -> None:
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [transition("a1", "confirmed", "TK01_LT"),
                                      transition("m1", "confirmed", "WK01_WL", rule="limit", level="orange",
                                                 message="尾矿库库水位橙色预警")])
    await eventually(lambda: service.book.get("m1") is not None, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        async def signed_in(name: str) -> tuple[aiohttp.ClientSession, str]:
            http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
            async with http.post(server.make_url("/desk/login"), data={"name": name, "password": PASSWORD},
                                 headers={"Origin": str(server.make_url("")).rstrip("/")}, allow_redirects=False) as r:
                assert r.status == 303, await r.text()
            async with http.get(server.make_url("/desk")) as page:
                html = await page.text()
            return http, html.split('data-csrf="', 1)[1].split('"', 1)[0]

        duty, csrf = await signed_in("wang")
        comment = {"comment": "已电话核实"}
        async with duty.post(server.make_url("/api/v1/alarms/a1/ack"), json=comment) as forged:
            assert forged.status == 403                       # a form on another site rides the cookie: refused
        async with duty.post(server.make_url("/api/v1/alarms/a1/ack"), json=comment, headers={"X-CSRF-Token": csrf}) as ok:
            assert ok.status == 200, await ok.text()
        await duty.close()

        prefecture, csrf = await signed_in("zhou")
        async with prefecture.get(server.make_url("/api/v1/alarms")) as listing:
            assert {a["id"] for a in (await listing.json())["alarms"]} == {"a1", "m1"}     # sees every county's
        async with prefecture.post(server.make_url("/api/v1/alarms/m1/ack"), json={"comment": "州已阅"},
                                   headers={"X-CSRF-Token": csrf}) as refused:
            assert refused.status == 403                      # and acts on none
        await prefecture.close()

        town, _ = await signed_in("lingxi")
        async with town.get(server.make_url("/api/v1/alarms")) as listing:
            assert {a["enterprise"] for a in (await listing.json())["alarms"]} == {CHEM}     # 灵溪镇's, not 青天坪镇's
        async with town.get(server.make_url("/api/v1/alarms/m1")) as other:
            assert other.status == 404 and MINE
        await town.close()

        async with aiohttp.ClientSession() as anonymous, anonymous.post(
                server.make_url("/desk/login"), data={"name": "wang", "password": PASSWORD}, allow_redirects=False) as r:
            assert r.status == 403                            # a sign-in form posted from elsewhere


async def test_map_handover_and_daily_report(start_service, produce, names, tokens, desk, browser, tmp_path) -> None:
    async with _signed_in_with_two_alarms(start_service, produce, names, tokens, desk, browser) as base:
        # 风险一张图: the mine red, the chemical plant yellow (a first-level alarm, young), the hospital without alarm
        await asyncio.to_thread(browser.get, f"{base}/desk/map")
        colours = await asyncio.to_thread(browser.execute_script, "return Object.fromEntries([...document.querySelectorAll("
                                          "'a.enterprise')].map(a => [a.dataset.enterprise, a.dataset.color]))")
        assert colours == {MINE: "red", CHEM: "yellow", FIRE: "none"}     # its screenshot: test_desk_map.py

        # 交接班: 王值班 hands over with the two open alarms, 李值班 signs for them
        await asyncio.to_thread(browser.get, f"{base}/desk/handover")
        items = await asyncio.to_thread(lambda: browser.find_element(By.CLASS_NAME, "items").text)
        assert "尾矿库库水位红色预警" in items and "1号储罐液位高报警" in items
        await asyncio.to_thread(browser.find_element(By.ID, "note").send_keys, "尾矿库红色预警已报县局领导，企业正在泄洪")
        await asyncio.to_thread(browser.find_element(By.CSS_SELECTOR, "form[data-post] button").click)
        await asyncio.to_thread(_until, browser, lambda b: b.find_elements(By.ID, "pending"))
        given = desk.handovers.pending()
        assert given is not None and given.given_by == "王值班 (wang)" and set(given.open_alarms) == {"m1", "a1"}
        await asyncio.to_thread(browser.find_element(By.CSS_SELECTOR, "form[data-post] button").click)   # one's own: refused
        await asyncio.to_thread(_until, browser, lambda b: "cannot sign their own" in b.find_element(By.ID, "error").text)
        await asyncio.to_thread(browser.delete_all_cookies)
        await asyncio.to_thread(_sign_in, browser, base, "li")
        await asyncio.to_thread(browser.get, f"{base}/desk/handover")
        await asyncio.to_thread(_shot, browser, "desk-handover.png")
        await asyncio.to_thread(browser.find_element(By.CSS_SELECTOR, "form[data-post] button").click)
        await eventually(lambda: desk.handovers.pending() is None, what="handover signed")
        await asyncio.to_thread(_until, browser, lambda b: not b.find_elements(By.ID, "pending"))   # the page reloaded

        # 值班日报 of that day: figures, the alarms in words, the handover; saved as a PDF the way a browser prints
        await asyncio.to_thread(browser.get, f"{base}/desk/report?day=2025-11-29")
        report = await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "body").text)
        for words in ("值班日报 2025年11月29日", "考核指标", "全县", "青天坪镇", "永顺县青天坪矿业有限公司", "尾矿库库水位红色预警",
                      "未签收", "王值班 (wang)", "李值班 (li)"):
            assert words in report, words
        assert MINE not in report and "high" not in report
        await asyncio.to_thread(_shot, browser, "desk-report.png")
        pdf = await asyncio.to_thread(browser.print_page)
        (tmp_path / "report.pdf").write_bytes(base64.b64decode(pdf))
        assert (tmp_path / "report.pdf").read_bytes().startswith(b"%PDF")
