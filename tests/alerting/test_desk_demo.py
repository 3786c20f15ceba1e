"""``hazmon demo``'s part of the desk (issue 17): a demo officer's account made through ``hazmon users`` as an
operator would, and a console that reads like the desk (names and §10 words, never ids and codes), against a
real alerting service."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import pytest
from aiohttp.test_utils import TestServer

from hzctl.demo import Summary, _render, demo_officer, poll_api
from hzctl.supervisor import Supervisor

from alerting.api.routes import build_app
from alerting.clock import ManualClock
from alerting.desk.accounts import Accounts
from tests.alerting.conftest import DUTY_TOKEN
from testbed.alerting import CHEM, FIRE, MINE, T0, eventually, transition

pytestmark = pytest.mark.servers


async def test_the_demo_officer_signs_in_with_the_password_printed_last(tmp_path: Path) -> None:
    first = await demo_officer(tmp_path)
    second = await demo_officer(tmp_path)          # a second demo: the same account, a new password
    accounts = Accounts(tmp_path / "alerting" / "desk.sqlite3")
    try:
        officer = await asyncio.to_thread(accounts.verify, "duty", second)
        assert officer is not None and (officer.role, officer.display_name) == ("duty", "演示值班员")
        assert await asyncio.to_thread(accounts.verify, "duty", first) is None
    finally:
        accounts.close()


async def test_the_console_shows_names_and_words(start_service, produce, names, tokens, tmp_path: Path) -> None:
    service = await start_service(ManualClock(T0 + 60_000))
    await produce(names.transitions, [
        transition("a1", "confirmed", "TK01_LT", level="high", value=9.4, limit=9.0),
        transition("f1", "confirmed", "FAC1_Z07", rule="fire", level=None, value=None, limit=None, at=T0 + 1_000,
                   message="1号楼3层东走廊火警")])
    await eventually(lambda: service.book.get("f1") is not None, what="alarms folded")
    summary = Summary()
    async with TestServer(build_app(service, tokens)) as server:
        polling = asyncio.create_task(poll_api(DUTY_TOKEN, [CHEM, MINE, FIRE], summary,
                                               str(server.make_url("")).rstrip("/")))
        try:
            await eventually(lambda: len(summary.newest) == 2, what="the console's alarms")
        finally:
            polling.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await polling
    console = _render(summary, "zh", 0.0, [], Supervisor(tmp_path / "logs"))
    assert summary.open_by_kind == {"火警": 1, "一级报警": 1}
    assert "[状态：未签收] 火警 永顺县人民医院" in console and "1号楼3层东走廊火警" in console
    assert "永顺县灵溪化工有限公司 / 1号储罐区" in console
    assert not [code for code in (CHEM, FIRE, "FAC1_Z07", "TK01_LT", "active", "high", "fire") if code in console], console
