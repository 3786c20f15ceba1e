"""值班日报 as a PDF file (issue 17): the report page links to ``/desk/report.pdf``; a signed-in officer gets
``application/pdf`` whose text (Chinese, from the embedded CJK font) names the day's alarms; no session, no
file. In headless Chromium the officer clicks the link and the file is downloaded; its first page is
rendered to ``docs/desk/desk-report-pdf.png`` when poppler's pdftoppm is installed."""

from __future__ import annotations

import asyncio
import io
import shutil
import subprocess
from pathlib import Path

import aiohttp
import pytest
from aiohttp.test_utils import TestServer
from pypdf import PdfReader
from selenium.webdriver.common.by import By

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from alerting.desk.report_pdf import FontMissing, PdfFont, Section, report_pdf
from testbed.alerting import MINE, T0, eventually, transition
from tests.alerting.test_desk import PASSWORD, SCREENSHOTS, _sign_in, _until, desk  # noqa: F401

pytestmark = pytest.mark.servers
DAY = "2025-11-29"
ALARM_NAMES = ("尾矿库库水位红色预警", "1号储罐液位高报警")


def pdf_text(body: bytes) -> str:
    """The file's text as pypdf extracts it (it reads each of fpdf2's two-byte glyph codes with a NUL before the
    character its ToUnicode map gives: the NULs are dropped; poppler's pdftotext gives the text without them)."""
    return "\n".join(page.extract_text() for page in PdfReader(io.BytesIO(body)).pages).replace("\x00", "")


async def test_the_daily_report_downloads_as_a_pdf_file_with_its_alarms_in_chinese(
        start_service, produce, names, tokens, desk, browser, tmp_path: Path) -> None:  # noqa: F811
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [
        transition("m1", "confirmed", "WK01_WL", rule="limit", level="red", value=411.6, limit=411.3, message=ALARM_NAMES[0]),
        transition("a1", "confirmed", "TK01_LT", level="high", value=9.4, limit=9.0)])
    await eventually(lambda: service.book.get("a1") is not None, what="alarms folded")
    async with TestServer(build_app(service, tokens, desk)) as server:
        base = str(server.make_url("")).rstrip("/")

        async with aiohttp.ClientSession() as anonymous, anonymous.get(
                server.make_url(f"/desk/report.pdf?day={DAY}"), allow_redirects=False) as refused:
            assert refused.status == 303 and refused.headers["Location"].startswith("/desk/login")

        async def pdf_of(name: str) -> str:
            """The day's PDF file as account ``name`` downloads it, in text."""
            return pdf_text(await report_pdf_of(server, name, DAY))

        text = await pdf_of("wang")
        for words in ("值班日报 2025年11月29日", "考核指标", "全县", *ALARM_NAMES, "永顺县青天坪矿业有限公司"):
            assert words in text, words
        assert MINE not in text and "high" not in text          # names and words, not codes (§10)
        desk.accounts.add("mine-safety", "enterprise", PASSWORD, "矿山安全员", MINE)
        own = await pdf_of("mine-safety")                         # an enterprise's account: its own alarms only
        assert ALARM_NAMES[0] in own and ALARM_NAMES[1] not in own and "全县" not in own

        # the officer clicks the page's link; Chromium saves the file
        downloads = tmp_path / "downloads"
        downloads.mkdir()
        await asyncio.to_thread(_sign_in, browser, base, "wang")
        await asyncio.to_thread(browser.execute_cdp_cmd, "Browser.setDownloadBehavior",
                                {"behavior": "allow", "downloadPath": str(downloads)})
        await asyncio.to_thread(browser.get, f"{base}/desk/report?day={DAY}")
        await asyncio.to_thread(browser.find_element(By.ID, "pdf").click)
        saved = downloads / f"hazmon-report-{DAY}.pdf"
        await asyncio.to_thread(_until, browser, lambda b: saved.is_file() and saved.stat().st_size > 0)
        assert all(words in pdf_text(saved.read_bytes()) for words in ALARM_NAMES)

    await asyncio.to_thread(shoot_first_page, saved, "desk-report-pdf")


async def report_pdf_of(server: TestServer, name: str, day: str) -> bytes:
    """The PDF file of ``day``'s report as account ``name`` downloads it after signing in."""
    async with aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True)) as http:
        async with http.post(server.make_url("/desk/login"), data={"name": name, "password": PASSWORD},
                             headers={"Origin": str(server.make_url("")).rstrip("/")}, allow_redirects=False) as signed:
            assert signed.status == 303
        async with http.get(server.make_url(f"/desk/report.pdf?day={day}")) as response:
            assert response.status == 200, await response.text()
            assert response.content_type == "application/pdf"
            assert f"hazmon-report-{day}.pdf" in response.headers["Content-Disposition"]
            return await response.read()


def shoot_first_page(pdf: Path, name: str) -> None:
    """The file's first page as ``docs/desk/<name>.png``, when poppler's pdftoppm is installed."""
    if shutil.which("pdftoppm"):
        SCREENSHOTS.mkdir(parents=True, exist_ok=True)
        subprocess.run(["pdftoppm", "-png", "-r", "80", "-f", "1", "-l", "1", "-singlefile", str(pdf), str(SCREENSHOTS / name)],
                       check=True)


def test_a_missing_font_is_named_with_its_setting(tmp_path: Path) -> None:
    with pytest.raises(FontMissing, match="HAZMON_DESK_PDF_FONT"):
        report_pdf("值班日报", [Section("考核指标", ["–"])], PdfFont(tmp_path / "no-such-font.ttc"))
