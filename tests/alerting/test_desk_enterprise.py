"""Enterprise accounts on the desk (issue 17): each sees its own enterprise's alarms, view and data quality, and
nothing of another's, on every route: the API (list, one alarm, 签收), the live list's events, the readings chart,
the enterprise view, the map, 屏蔽, the daily report; 交接班 is the duty rooms' (403). Two enterprises' accounts, on
a real alerting service, Kafka and InfluxDB; the list and the view in headless Chromium too.

The screenshot goes to ``docs/desk/``."""

from __future__ import annotations

import asyncio

import aiohttp
import orjson
import pytest
from aiohttp.test_utils import TestServer
from selenium.webdriver.common.by import By

from hazmon import series

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from testbed.alerting import CHEM, MINE, T0, eventually, transition, write_influx
from tests.alerting.test_desk import PASSWORD, _shot, _sign_in, _until, _wait_rows, desk  # noqa: F401

pytestmark = pytest.mark.servers
NOW = T0 + 60_000
OWN = {"chem": (CHEM, "chem-a1", "1号储罐液位高报警", "TK01_LT"), "mine": (MINE, "mine-a1", "尾矿库库水位红色预警", "WK01_WL")}
HANDOVER_NOTE = "矿业公司尾矿库红色预警已报县局领导"


async def _signed_in(server: TestServer, name: str) -> tuple[aiohttp.ClientSession, str]:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(server.make_url("/desk/login"), data={"name": name, "password": PASSWORD},
                         headers={"Origin": str(server.make_url("")).rstrip("/")}, allow_redirects=False) as signed:
        assert signed.status == 303, await signed.text()
    async with http.get(server.make_url("/desk")) as page:
        csrf = (await page.text()).split('data-csrf="', 1)[1].split('"', 1)[0]
    return http, csrf


class Leaks:
    """What one account must never be shown: another enterprise's id, alarm, words and name."""

    def __init__(self, never: tuple[str, ...]) -> None:
        self.never = never

    def clean(self, text: str) -> bool:
        return not [word for word in self.never if word in text]


class Reader(Leaks):
    """One account's session reading the desk's pages, each checked for what it must never show."""

    def __init__(self, http: aiohttp.ClientSession, url, never: tuple[str, ...]) -> None:
        super().__init__(never)
        self.http, self.url = http, url

    async def page(self, path: str, status: int = 200) -> str:
        async with self.http.get(self.url(path)) as answer:
            text = await answer.text()
        assert answer.status == status, (path, answer.status, text)
        assert self.clean(text), (path, [word for word in self.never if word in text])
        return text


async def _event(stream: aiohttp.ClientResponse) -> tuple[str, object]:
    """The stream's next server-sent event (keep-alive comments skipped)."""
    name, data = "", b""
    while True:
        line = (await asyncio.wait_for(stream.content.readline(), 15)).rstrip(b"\n")
        if line.startswith(b"event: "):
            name = line[7:].decode()
        elif line.startswith(b"data: "):
            data = line[6:]
        elif not line and name:
            return name, orjson.loads(data)


async def test_each_enterprise_account_sees_its_own_and_nothing_of_another(start_service, produce, names, tokens, desk,  # noqa: F811
                                                                          browser) -> None:
    service = await start_service(ManualClock(NOW))
    await write_influx(service.settings, [f"{series.reading_prefix(CHEM, 'TF01', 'TK01_LT', 'tank_level')}9.42 {NOW - 20_000}",
                                f"{series.reading_prefix(MINE, 'WK01', 'WK01_WL', 'water_level')}411.6 {NOW - 20_000}",
                                series.ingest_stats_line({"enterprise": MINE, "accepted": 9, "refused": {"bad_value": 7},
                                                          "window_end_ms": NOW - 30_000})])
    await produce(names.transitions, [
        transition("chem-a1", "confirmed", "TK01_LT", level="high", value=9.42, limit=9.0, at=T0),
        transition("mine-a1", "confirmed", "WK01_WL", level="red", value=411.6, limit=411.3, at=T0, message="尾矿库库水位红色预警")])
    await eventually(lambda: {"chem-a1", "mine-a1"} <= set(service.book.alarms), what="alarms folded")
    for enterprise, point in ((CHEM, "TK01_TT"), (MINE, "WK01_DS1")):
        await service.act({"v": 1, "action_id": f"s-{point}", "action": "suppress", "enterprise": enterprise, "ts": NOW,
                           "by": "duty/王值班 (wang)", "point": point, "reason": f"{point}校准", "expires_at": NOW + 3_600_000})
    desk.handovers.give("王值班 (wang)", HANDOVER_NOTE, ["chem-a1", "mine-a1"], NOW)
    for name, (enterprise, *_) in OWN.items():
        desk.accounts.add(name, "enterprise", PASSWORD, f"{name}安全员", enterprise)
    registry = service.registry
    async with TestServer(build_app(service, tokens, desk)) as server:
        url = server.make_url
        sessions = {name: await _signed_in(server, name) for name in OWN}
        streams = {name: await http.get(url("/desk/events")) for name, (http, _) in sessions.items()}
        for name, (http, csrf) in sessions.items():
            own, own_alarm, own_words, own_point = OWN[name]
            other_name = next(n for n in OWN if n != name)
            other, other_alarm, other_words, other_point = OWN[other_name]
            never = (other, other_alarm, other_words, registry.enterprises[other].enterprise.name, f"{other_point}校准")

            clean = Leaks(never).clean
            page = Reader(http, url, never).page

            # the API: its own alarms listed, another's as missing as an unknown one, not even for 签收
            listed = orjson.loads(await page("/api/v1/alarms"))
            assert {a["id"] for a in listed["alarms"]} == {own_alarm}
            await page(f"/api/v1/alarms/{own_alarm}")
            await page(f"/api/v1/alarms/{other_alarm}", 404)
            await page(f"/api/v1/alarms?enterprise={other}", 403)
            async with http.post(url(f"/api/v1/alarms/{other_alarm}/ack"), json={"comment": "试签"},
                                 headers={"X-CSRF-Token": csrf}) as ack:
                assert ack.status == 404 and clean(await ack.text())
            assert service.book.get(other_alarm).acked_at is None

            # the live list's snapshot, the readings chart, the enterprise view with its data quality, the map
            kind, snapshot = await _event(streams[name])
            assert kind == "snapshot" and [a["id"] for a in snapshot] == [own_alarm]
            assert clean(orjson.dumps(snapshot).decode())
            await page(f"/desk/alarms/{own_alarm}/readings.svg")
            await page(f"/desk/alarms/{other_alarm}/readings.svg", 404)
            view = await page(f"/desk/enterprises/{own}")
            assert 'id="online-rate"' in view and registry.enterprises[own].enterprise.name in view
            assert ("数值无效 7" in view) == (own == MINE)                   # ingest's refusals: its own only
            assert "没有这家企业" in await page(f"/desk/enterprises/{other}", 404)
            for path in ("/desk/map", "/desk/map.svg"):
                assert f'data-enterprise="{own}"' in await page(path)

            # 屏蔽: its own enterprise's suppressions, no form; 交接班: not an enterprise's (403), not in its report
            suppressions = orjson.loads(await page("/api/v1/suppressions"))["suppressions"]
            assert [s["enterprise"] for s in suppressions] == [own]
            listing = await page("/desk/suppressions")
            assert f"{'TK01_TT' if own == CHEM else 'WK01_DS1'}校准" in listing and 'id="suppress"' not in listing
            await page("/desk/handover", 403)
            async with http.post(url("/desk/handover"), json={"note": "企业交班"}, headers={"X-CSRF-Token": csrf}) as give:
                assert give.status == 403
            assert desk.handovers.pending().given_by == "王值班 (wang)"
            report = await page("/desk/report?day=2025-11-29")
            assert own_words in report and HANDOVER_NOTE not in report and "全县" not in report and "乡镇：" not in report
            assert "交接班" not in report.split("<main>", 1)[1]

        # live: another's changes never reach the page; its own do (the feed is in order: sentinels come last)
        await produce(names.transitions, [transition("mine-a2", "confirmed", "WK01_DS1", level="high", at=NOW),
                                          transition("chem-a2", "confirmed", "TK01_PT", level="high", at=NOW)])
        await eventually(lambda: {"mine-a2", "chem-a2"} <= set(service.book.alarms), what="new alarms folded")
        await produce(names.transitions, [transition("chem-a9", "confirmed", "TK01_TT", level="high", at=NOW),
                                          transition("mine-a9", "confirmed", "WK01_WL", level="high", at=NOW)])
        for name, sentinel in (("chem", "chem-a9"), ("mine", "mine-a9")):
            seen: list[str] = []
            while sentinel not in seen:
                kind, change = await _event(streams[name])
                assert kind == "alarm"
                seen.append(change["alarm"]["id"])
            assert all(alarm.startswith(name) for alarm in seen), (name, seen)
        for stream in streams.values():
            stream.close()
        for http, _ in sessions.values():
            await http.close()

        # the same in the browser: the chemical plant's officer lists its alarms and opens its own view
        base = str(url("")).rstrip("/")
        await asyncio.to_thread(_sign_in, browser, base, "chem")
        rows = await asyncio.to_thread(_wait_rows, browser, lambda r: {"chem-a1", "chem-a2", "chem-a9"} <= set(r))
        assert set(rows) == {"chem-a1", "chem-a2", "chem-a9"}
        assert "交接班" not in await asyncio.to_thread(lambda: browser.find_element(By.TAG_NAME, "nav").text)
        await asyncio.to_thread(browser.get, f"{base}/desk/enterprises/{CHEM}")
        await asyncio.to_thread(_until, browser, lambda b: b.find_elements(By.ID, "quality"))
        await asyncio.to_thread(_shot, browser, "desk-enterprise-account.png")
