"""The prefecture's desk (issue 19) in headless Chromium during a two-level run (the county's alerting and
uplink, the prefecture on its own broker): its officer signs in with the API's credential, sees the counties'
figures (联网率、在线率、签收及时率) and an alarm escalated to 州 with names, never codes, signs for it, and the
county's record shows the 签收; the county's page shows its enterprises by risk colour. Also what a desk
session may not do, on the real server. Screenshots go to ``docs/desk/``."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path

import aiohttp
import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from hazmon.settings import Settings
from hazmon.topics import PlatformTopics
from prefecture.figures import Rate, county_figures, signed_in_time
from prefecture.service import Prefecture

from alerting.clock import ManualClock
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition
from testbed.uplink import COUNTY, PREFECTURE_OFFICER, PREFECTURE_TOKEN, UpperBroker, running_uplink, uplink_settings
from tests.uplink.test_forward import suffix_of
from uplink.risk import RiskForwarder

pytestmark = pytest.mark.servers
SCREENSHOTS = Path(__file__).resolve().parents[2] / "docs" / "desk"
MIN = 60_000
DAY = "2025-11-29"   # T0 in Beijing time
D1 = "永顺县灵溪化工有限公司 1号储罐区 1号储罐液位 高高限二级报警：10.80 m，限值 10.50 m（设备时间 2025-11-29 08:40:00）"
D2 = "永顺县灵溪化工有限公司 1号储罐区 1号储罐温度 高限一级报警：48.2 ℃，限值 45.0 ℃（设备时间 2025-11-29 08:40:00）"
D3 = "永顺县灵溪化工有限公司 1号储罐区 1号储罐压力 高限一级报警：1.05 MPa，限值 1.00 MPa（设备时间 2025-11-29 08:55:00）"
O1 = "永顺县青天坪矿业有限公司 青天坪尾矿库 设备离线（设备时间 2025-11-29 08:55:00）"


def _shot(browser: WebDriver, name: str) -> None:
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    browser.save_screenshot(str(SCREENSHOTS / name))


def _sign_in(browser: WebDriver, base: str, token: str) -> None:
    browser.set_window_size(1500, 900)
    browser.get(f"{base}/desk?day={DAY}")
    WebDriverWait(browser, 15).until(lambda b: "/desk/login" in b.current_url)
    browser.find_element(By.NAME, "token").send_keys(token)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()


def _cells(browser: WebDriver, county: str) -> dict[str, str]:
    row = browser.find_element(By.CSS_SELECTOR, f"#figures tr[data-county='{county}']")
    return {name: row.find_element(By.CLASS_NAME, name).text for name in ("networked", "online", "signed")}


def _row_text(browser: WebDriver, alarm_id: str) -> str:
    return browser.find_element(By.CSS_SELECTOR, f"tr[data-alarm='{alarm_id}']").text


async def test_the_prefecture_officer_sees_signs_and_counts(start_service: Callable, start_recorder: Callable,
                                                            names: PlatformTopics, produce: Callable,
                                                            alerting_settings: Settings,
                                                            upper: UpperBroker, prefecture: Prefecture, unique: str,
                                                            browser: WebDriver) -> None:
    clock = ManualClock(T0)
    service = await start_service(clock)
    await start_recorder()   # the county's colours reach its InfluxDB through its recorder
    county = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")
    base = f"http://127.0.0.1:{prefecture.settings.prefecture_api_port}"
    # the county's day first, its uplink started afterwards (a county joining the exchange): what it sends at
    # connection holds every version and each enterprise's colour as alerting wrote it (the chemical plant red
    # at the county's time; the uplink connected first is test_risk's)
    await produce(names.transitions, [
        transition("d1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0, message=D1),
        transition("d2", "confirmed", "TK01_TT", level="high", value=48.2, limit=45.0, at=T0, message=D2)])
    await eventually(lambda: service.book.get("d1") is not None and service.book.get("d2") is not None, 30,
                     "both alarms in the county's record")
    for minutes in (5, 10):   # the county's own escalator: to the county desk at 5 min, to 州 at 15
        clock.advance(minutes * 60)
        await service.tick()
    # then a pressure alarm the county signs within a minute, and the tailings pond's station offline
    await produce(names.transitions, [
        transition("d3", "confirmed", "TK01_PT", level="high", value=1.05, limit=1.0, at=T0 + 15 * MIN, message=D3),
        transition("o1", "confirmed", "WK01_WL", rule="offline", level=None, value=None, limit=None, at=T0 + 15 * MIN,
                   message=O1)])
    await eventually(lambda: service.book.get("d3") is not None and service.book.get("o1") is not None, 30,
                     "d3 and o1 in the county's record")
    await service.act({"v": 1, "action_id": f"ack-d3-{unique}", "action": "ack", "enterprise": CHEM,
                       "ts": T0 + 16 * MIN, "by": "duty/张三", "alarm": "d3", "comment": "已通知企业"})

    async def red_at_the_county() -> bool:
        colour = (await RiskForwarder(county, COUNTY).colours()).get(CHEM)
        return colour is not None and colour[0][1] == "red"
    await eventually(red_at_the_county, 30, "the chemical plant red in the county's InfluxDB")

    async with running_uplink(county):
        async def at_prefecture() -> bool:
            d1, d3, o1 = [await prefecture.record.alarm(COUNTY, a) for a in ("d1", "d3", "o1")]
            risk = {r["enterprise"]: r["color"] for r in await prefecture.record.risk(COUNTY)}
            return (d1 is not None and d1["escalated_to"] == "prefecture" and d3 is not None and d3["acked_by"] is not None
                    and o1 is not None and risk.get(CHEM) == "red" and await prefecture.record.registry(COUNTY) is not None)
        await eventually(at_prefecture, 60, "the escalation, the county's 签收, the offline station, the registry and "
                                            "the chemical plant's red at the prefecture")

        await asyncio.to_thread(_sign_in, browser, base, "not-a-token")
        # the refused sign-in's page comes after the click returns: wait for it, as for every page below
        await asyncio.to_thread(WebDriverWait(browser, 15).until, lambda b: b.find_elements(By.CLASS_NAME, "error"))
        assert "访问令牌不正确" in await asyncio.to_thread(lambda: browser.find_element(By.CLASS_NAME, "error").text)
        await asyncio.to_thread(_sign_in, browser, base, PREFECTURE_TOKEN)
        await asyncio.to_thread(WebDriverWait(browser, 15).until, lambda b: b.find_elements(By.ID, "figures"))
        await asyncio.to_thread(browser.get, f"{base}/desk?day={DAY}")
        # 联网率: the mine's only device offline, the chemical plant and the hospital up (its fire detectors aside);
        # 在线率: 6 + 5 of the 17 reporting points; 签收及时率: d3 in a minute, d1 at 15 min, d2 and o1 not yet
        assert await asyncio.to_thread(_cells, browser, COUNTY) == {
            "networked": "66.7%（2/3）", "online": "64.7%（11/17）", "signed": "25.0%（1/4）"}
        row = await asyncio.to_thread(_row_text, browser, "d1")
        assert "永顺县" in row and "永顺县灵溪化工有限公司 · 1号储罐区" in row and "10.80 m" in row and "未签收" in row
        assert not await asyncio.to_thread(browser.find_elements, By.CSS_SELECTOR, "tr[data-alarm='d2']")   # the county's
        page = await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "body").text)
        for code in (CHEM, MINE, FIRE, COUNTY, "high_high", "prefecture", "offline", "RTU01", "TF01"):
            assert code not in page, code
        await asyncio.to_thread(_shot, browser, "prefecture-desk.png")

        form = await asyncio.to_thread(browser.find_element, By.CSS_SELECTOR, "tr[data-alarm='d1'] form")
        await asyncio.to_thread(form.find_element(By.NAME, "comment").send_keys, "州应急局已签收，请县局督促企业处置")
        await asyncio.to_thread(form.find_element(By.CSS_SELECTOR, "button[type=submit]").click)
        await asyncio.to_thread(WebDriverWait(browser, 15).until, lambda b: b.find_elements(By.CSS_SELECTOR, "p.notice"))
        assert "已签收" in await asyncio.to_thread(lambda: browser.find_element(By.CSS_SELECTOR, "p.notice").text)

        await eventually(lambda: service.book.get("d1").acked_by is not None, 30, "the 签收 on the county's record")  # type: ignore[union-attr]

        async def acknowledged_at_prefecture() -> bool:
            alarm = await prefecture.record.alarm(COUNTY, "d1")
            return alarm is not None and alarm["state"] == "acknowledged"
        await eventually(acknowledged_at_prefecture, 30, "the county's acknowledged version at the prefecture")
        await asyncio.to_thread(browser.get, f"{base}/desk?day={DAY}")
        row = await asyncio.to_thread(_row_text, browser, "d1")
        assert f"已签收：州应急管理局 {PREFECTURE_OFFICER}" in row, row
        await asyncio.to_thread(_shot, browser, "prefecture-desk-signed.png")

        await asyncio.to_thread(browser.get, f"{base}/desk/counties/{COUNTY}?day={DAY}")
        rows = await asyncio.to_thread(lambda: [r.text for r in browser.find_elements(By.CSS_SELECTOR, "#enterprises tbody tr")])
        assert rows[0].startswith("永顺县灵溪化工有限公司 灵溪镇 红色"), rows
        assert {r.split()[0] for r in rows} == {"永顺县灵溪化工有限公司", "永顺县青天坪矿业有限公司", "永顺县人民医院"}
        assert "设备离线" in await asyncio.to_thread(_row_text, browser, "o1")
        assert "已签收：县应急管理局值班室 张三" in await asyncio.to_thread(_row_text, browser, "d3")
        await asyncio.to_thread(_shot, browser, "prefecture-county.png")

    d1 = service.book.get("d1")
    assert d1 is not None and (d1.acked_by, d1.ack_comment) == (f"prefecture/{PREFECTURE_OFFICER}", "州应急局已签收，请县局督促企业处置")


async def test_what_a_desk_session_may_not_do(prefecture: Prefecture) -> None:
    base = f"http://127.0.0.1:{prefecture.settings.prefecture_api_port}"
    async with aiohttp.ClientSession(base, cookie_jar=aiohttp.CookieJar(unsafe=True)) as browser:
        async with browser.get("/desk", allow_redirects=False) as response:
            assert (response.status, response.headers["Location"]) == (303, "/desk/login")
        async with browser.post("/desk/login", data={"token": PREFECTURE_TOKEN}, allow_redirects=False) as response:
            assert response.status == 403   # not from the site's own page
        async with browser.post("/desk/login", data={"token": "wrong"}, headers={"Origin": base}) as response:
            assert response.status == 401
        async with browser.post("/desk/login", data={"token": PREFECTURE_TOKEN}, headers={"Origin": base},
                                allow_redirects=False) as response:
            assert response.status == 303
            cookie = response.cookies["hazmon_prefecture_session"]
            assert (cookie["httponly"], cookie["samesite"], cookie["path"]) == (True, "Strict", "/desk")
        async with browser.get("/desk") as response:
            assert response.status == 200 and PREFECTURE_OFFICER in await response.text()
            assert "default-src 'none'" in response.headers["Content-Security-Policy"]
        async with browser.get("/api/v1/prefecture/counties") as response:
            assert response.status == 401   # the API takes its bearer tokens only, never the desk's cookie
        async with browser.post(f"/desk/alarms/{COUNTY}/nope/ack", data={"comment": "x"}, allow_redirects=False) as response:
            assert response.status == 403   # no CSRF token
        async with browser.post("/desk/logout", data={}, allow_redirects=False) as response:
            assert response.status == 403


def _alarm(started: int, acked: int | None, **fields: object) -> dict:
    return {"id": "a", "enterprise": CHEM, "device": "RTU01", "rule": "limit", "state": "active", "confirmed": True,
            "started_at": started, "acked_at": acked, **fields}


def test_signed_in_time_counts_the_due_alarms_of_the_day() -> None:
    day, now = (T0 - 60 * MIN, T0 + 23 * 60 * MIN), T0 + 20 * MIN
    alarms = [_alarm(T0, T0 + 5 * MIN),                       # in time (5 min exactly)
              _alarm(T0, T0 + 5 * MIN + 1),                   # late
              _alarm(T0, None),                               # never signed, due
              _alarm(now - 4 * MIN, None),                    # not due yet: left out
              _alarm(now - 4 * MIN, now - 3 * MIN),           # signed already: counted
              _alarm(T0, T0 + MIN, confirmed=False),          # raised, never the platform's alarm
              _alarm(T0, T0 + MIN, enterprise="platform"),    # the platform's own outage
              _alarm(T0 - 2 * 60 * MIN, T0)]                  # another day
    assert signed_in_time(alarms, *day, now) == Rate(2, 4)


def test_a_county_offline_has_nothing_online() -> None:
    registry = {"enterprises": [{"id": CHEM, "points": [{"device": "RTU01", "type": "tank_level"},
                                                        {"device": "FAC1", "type": "fire_detector"}]}]}
    up = county_figures(registry, T0, [], T0, T0 + 1, T0 + 60_000)
    down = county_figures(registry, T0, [], T0, T0 + 1, T0 + 181_000)
    assert (up.online, up.networked, up.points_online) == (True, Rate(1, 1), Rate(1, 1))
    assert (down.online, down.networked, down.points_online) == (False, Rate(0, 1), Rate(0, 1))
