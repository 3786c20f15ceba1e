"""值班日报 per enterprise (issue 17, 考核指标 per day, town and enterprise): the report page and its PDF file give
every visible enterprise its own row of 考核指标 (签收及时率, 处置率, 误报率, mean minutes to sign and to close) and
of 联网与在线 (联网率, 在线率, enterprises sending), by name, beside the county's and each town's; an enterprise with
no alarm that day has its row too. Figures from a known day in headless Chromium on a real alerting service, Kafka
and InfluxDB; the page's screenshot goes to ``docs/desk/desk-report-enterprises.png``, the PDF file's first page
to ``docs/desk/desk-report-pdf-enterprises.png``."""

from __future__ import annotations

import asyncio
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer

from hazmon import series

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition, write_influx
from tests.alerting.conftest import DUTY_TOKEN
from tests.alerting.test_desk import PASSWORD, _shot, _sign_in, desk  # noqa: F401
from tests.alerting.test_desk_report_pdf import pdf_text, report_pdf_of, shoot_first_page

pytestmark = pytest.mark.servers
NOW = T0 + 60_000                      # 2025-11-29 08:41 Beijing time
DAY = "2025-11-29"
DUTY = {"Authorization": f"Bearer {DUTY_TOKEN}"}
CHEMICAL, MINING, HOSPITAL = "永顺县灵溪化工有限公司", "永顺县青天坪矿业有限公司", "永顺县人民医院"
# The day's readings: the chemical plant's level 20 s ago (online) and temperature an hour ago (sent, offline at a
# period of 10 s), the mine's water level 20 min ago (online at a period of 600 s), nothing from the hospital.
READINGS = ((CHEM, "TK01_LT", NOW - 20_000), (CHEM, "TK01_TT", NOW - 3_600_000), (MINE, "WK01_WL", NOW - 1_200_000))
# Reading points (fire detectors send events, not readings): the chemical plant 6, the mine 6, the hospital 5.
CONNECTIVITY = {
    "全县": ["17.6%（3/17）", "11.8%（2/17）", "2/3"],
    "乡镇：灵溪镇": ["18.2%（2/11）", "9.1%（1/11）", "1/2"],
    "乡镇：青天坪镇": ["16.7%（1/6）", "16.7%（1/6）", "1/1"],
    CHEMICAL: ["33.3%（2/6）", "16.7%（1/6）", "1/1"],
    MINING: ["16.7%（1/6）", "16.7%（1/6）", "1/1"],
    HOSPITAL: ["0.0%（0/5）", "0.0%（0/5）", "0/1"],
}
# The day's alarms: the plant's signed 1 min after it started and closed as 误报 then; the mine's not signed.
ASSESSMENT = {
    "全县": ["2", "50.0%", "50.0%", "100.0%", "1.0", "1.0"],
    "乡镇：灵溪镇": ["1", "100.0%", "100.0%", "100.0%", "1.0", "1.0"],
    "乡镇：青天坪镇": ["1", "0.0%", "0.0%", "–", "–", "–"],
    CHEMICAL: ["1", "100.0%", "100.0%", "100.0%", "1.0", "1.0"],
    MINING: ["1", "0.0%", "0.0%", "–", "–", "–"],
    HOSPITAL: ["0", "–", "–", "–", "–", "–"],
}
CODES = (CHEM, MINE, FIRE, "TK01_LT", "TK01_TT", "WK01_WL", "false_alarm")


def _table(browser, css: str) -> dict[str, list[str]]:
    """The rows of the page's table ``css``: row heading → cells."""
    rows = browser.execute_script(f"return [...document.querySelectorAll('{css} tbody tr')]"
                                  ".map(tr => [...tr.cells].map(c => c.innerText))")
    return {name: cells for name, *cells in rows}


async def test_the_daily_report_gives_each_enterprise_its_figures_and_connectivity(
        start_service, produce, names, tokens, desk, browser, tmp_path: Path) -> None:  # noqa: F811
    service = await start_service(ManualClock(NOW))
    points = service.registry.points
    await write_influx(service.settings, [
        f"{series.reading_prefix(e, points[(e, p)].point.site, p, points[(e, p)].point.type.value)}1.5 {ts}"
        for e, p, ts in READINGS])
    await produce(names.transitions, [
        transition("a1", "confirmed", "TK01_LT", level="high", value=9.4, limit=9.0),
        transition("a1", "cleared", "TK01_LT", level="high", value=8.6, limit=9.0, at=T0 + 30_000, started_at=T0),
        transition("m1", "confirmed", "WK01_WL", rule="limit", level="red", value=411.6, limit=411.3,
                   message="尾矿库库水位红色预警")])
    await eventually(lambda: (a := service.book.get("a1")) is not None and a.state == "cleared"
                     and service.book.get("m1") is not None, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")
        async with aiohttp.ClientSession() as api:
            for action, body in (("ack", {"comment": "已电话核实"}), ("close", {"note": "液位计故障，误报", "cause": "false_alarm"})):
                async with api.post(server.make_url(f"/api/v1/alarms/a1/{action}"), json=body, headers=DUTY) as done:
                    assert done.status == 200, await done.text()

        await asyncio.to_thread(_sign_in, browser, base, "wang")
        await asyncio.to_thread(browser.get, f"{base}/desk/report?day={DAY}")
        assert await asyncio.to_thread(_table, browser, "table.figures:not(#connectivity)") == ASSESSMENT
        assert await asyncio.to_thread(_table, browser, "#connectivity") == CONNECTIVITY
        page = await asyncio.to_thread(browser.execute_script, "return document.body.innerText")
        assert not [code for code in CODES if code in page], page          # names, never codes (§10)
        await asyncio.to_thread(_shot, browser, "desk-report-enterprises.png")

        async def pdf_of(name: str) -> str:
            """The day's PDF file as account ``name`` downloads it (kept in tmp_path), in text without blanks (pypdf
            sets a cell apart from the next or not, and a long name may wrap in its cell)."""
            body = await report_pdf_of(server, name, DAY)
            (tmp_path / f"{name}.pdf").write_bytes(body)
            return "".join(pdf_text(body).split())

        text = await pdf_of("wang")
        for name in (CHEMICAL, MINING, HOSPITAL):
            assert "".join([name, *ASSESSMENT[name]]) in text and "".join([name, *CONNECTIVITY[name]]) in text, name
        assert not [code for code in CODES if code in text], text
        await asyncio.to_thread(shoot_first_page, tmp_path / "wang.pdf", "desk-report-pdf-enterprises")

        # a town's account: its town's enterprises only; an enterprise's account: its own row under its name
        town = await pdf_of("lingxi")
        assert "".join([HOSPITAL, *CONNECTIVITY[HOSPITAL]]) in town and MINING not in town
        desk.accounts.add("chem", "enterprise", PASSWORD, "灵溪化工安全员", CHEM)
        own = await pdf_of("chem")
        assert "".join([CHEMICAL, *CONNECTIVITY[CHEMICAL]]) in own
        assert HOSPITAL not in own and "全县" not in own
