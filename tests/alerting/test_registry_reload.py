"""Alerting reloads the registry while it runs, like ingest and the rules: a point added to the
registry gets its readings into InfluxDB, a renamed site is named anew in texts, and an enterprise
removed from the registry loses its API token (401) and one added gets its token, all without a restart. Real Kafka and InfluxDB."""

from __future__ import annotations

import functools
import shutil
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp.test_utils import TestClient, TestServer

from hazmon.registry import load_registry
from hazmon.secrets import Principal, load_secrets, token_index
from hazmon.settings import Settings
from hazmon.wire import ReadingBatch

from alerting.api.auth import TokenIndex
from alerting.api.routes import build_app
from alerting.clock import ManualClock
from hazmon.topics import PlatformTopics
from alerting.service import AlertingService
from recorder.service import Recorder
from tests.alerting.conftest import DUTY_TOKEN
from testbed.alerting import CHEM, FIRE, T0, eventually, query, transition

pytestmark = pytest.mark.servers
CHEM_FILE = f"{CHEM}.yaml"
NEW_POINT = "  - {id: TK02_LT, site: TF01, device: RTU02, type: tank_level, range: [0, 12], high: 9.0, high_high: 10.5, period_s: 10}\n"


@pytest.fixture
async def running(alerting_settings: Settings, names: PlatformTopics, tmp_path: Path,
                  settings: Settings) -> AsyncIterator[tuple[AlertingService, Path, Recorder]]:
    """A service and a recorder (which writes the readings) on a copy of the sample registry that the test
    edits, checked every 0.2 s."""
    directory = tmp_path / "registry"
    shutil.copytree(settings.registry_dir, directory)
    changed = alerting_settings.model_copy(update={"registry_dir": directory, "alerting_registry_poll_s": 0.2})
    service = AlertingService(changed, load_registry(directory), clock=ManualClock(T0))
    recorder = Recorder(changed, load_registry(directory))
    await service.start()
    await recorder.start()
    await service.caught_up()
    yield service, directory, recorder
    await recorder.stop()
    await service.stop()


async def test_a_point_added_while_running_gets_its_readings_written_and_a_new_site_name_shows(
        running, produce, names, alerting_settings: Settings) -> None:
    service, directory, recorder = running
    chem = directory / CHEM_FILE
    chem.write_text(chem.read_text(encoding="utf-8").replace("1号储罐区", "一号储罐区") + NEW_POINT, encoding="utf-8")
    await eventually(lambda: service.registry.point(CHEM, "TK02_LT") is not None
                     and recorder.registry_watch.current.point(CHEM, "TK02_LT") is not None,
                     timeout_s=30, what="the registry reloaded by both")
    await produce(names.readings, [ReadingBatch(v=1, enterprise=CHEM, device="RTU02", recv_ms=T0, points=["TK02_LT"],
                                                ts=[T0], values=[7.25], q=[0], ts_src=[0])])

    async def written() -> bool:
        rows = await query(alerting_settings, """SELECT value FROM "raw".reading WHERE point = 'TK02_LT'""")
        return [r["value"] for r in rows] == [7.25]
    await eventually(written, timeout_s=15, what="the new point's reading in InfluxDB")
    await produce(names.transitions, [transition("n1", "confirmed", "TK01_LT", level="high", at=T0)])
    await eventually(lambda: "n1" in service.book.alarms, what="an alarm folded")
    assert service.place_of(service.book.alarms["n1"]).startswith("一号储罐区")


async def test_an_enterprise_removed_from_the_registry_loses_its_api_token(
        running, tokens: dict[str, Principal]) -> None:
    service, directory, _ = running
    async with TestClient(TestServer(build_app(service, tokens))) as client:
        def listing(token: str):
            return client.get("/api/v1/alarms", headers={"Authorization": f"Bearer {token}"})
        assert (await listing(f"token-{FIRE}")).status == 200
        (directory / f"{FIRE}.yaml").unlink()
        await eventually(lambda: FIRE not in service.registry.enterprises, timeout_s=30, what="the registry reloaded")
        assert (await listing(f"token-{FIRE}")).status == 401
        assert (await listing(f"token-{CHEM}")).status == 200
        assert (await listing(DUTY_TOKEN)).status == 200


async def test_an_enterprise_added_to_the_registry_gets_its_api_token(running, tmp_path: Path) -> None:
    service, directory, _ = running
    secrets_path = tmp_path / "secrets.json"
    index = TokenIndex(token_index(load_secrets(secrets_path, tuple(service.registry.enterprises))),
                       lambda: service.registry.enterprises)
    service.registry_watch.listeners.append(functools.partial(index.reload, secrets_path))
    added = "91433127MA4NEWC004"
    text = (directory / CHEM_FILE).read_text(encoding="utf-8").replace(CHEM, added).replace("永顺县灵溪化工有限公司", "新企业")
    (directory / f"{added}.yaml").write_text(text, encoding="utf-8")
    await eventually(lambda: added in service.registry.enterprises, timeout_s=30, what="the registry reloaded")

    def added_principal() -> Principal | None:
        """The principal of the added enterprise's token; None until its listener has run (it runs after
        the registry is in use)."""
        try:
            return index.principal(load_secrets(secrets_path).enterprise(added).api_token)
        except KeyError:
            return None
    await eventually(lambda: added_principal() is not None, timeout_s=10, what="the added enterprise's token known")
    principal = added_principal()
    assert principal is not None and (principal.role, principal.enterprise) == ("enterprise", added)
