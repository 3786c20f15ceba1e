"""``hazmon ingest check``: what an enterprise's feed looks like to the platform, per device and point."""

from __future__ import annotations

import asyncio

import aiomqtt
import orjson
import pytest

from hazmon.settings import Settings
from ingest.check import STATUS_ROW, CheckReport, render, watch_enterprise
from ingest.directory import DeviceDirectory
from ingest.parser import parse_message
from ingest.topics import Kind
from tests.ingest.conftest import UNIT_ENTERPRISE, IngestEnterprise

RECV = 1_764_376_900_000


def test_report_tallies_per_device_and_point(directory: DeviceDirectory) -> None:
    report = CheckReport()
    body = orjson.dumps({"v": 1, "readings": [{"point": "TK01_LT", "value": 1}, {"point": "TK01_LT", "value": "x"},
                                              {"point": "NOPE", "value": 1}, {"point": "TK01_TT", "value": 2}]})
    report.add(parse_message(Kind.TELEMETRY, UNIT_ENTERPRISE, "RTU01", body, RECV, directory, "en"))
    report.add(parse_message(Kind.TELEMETRY, UNIT_ENTERPRISE, "RTU01", b"{", RECV, directory, "en"))
    report.add(parse_message(Kind.STATUS, UNIT_ENTERPRISE, "RTU01", b'{"v":1,"online":true}', RECV, directory, "en"))
    lt = report.tallies[("RTU01", "TK01_LT")]
    assert (lt.accepted, dict(lt.refused)) == (1, {"bad_value": 1})
    assert dict(report.tallies[("RTU01", "NOPE")].refused) == {"unknown_point": 1}
    assert dict(report.tallies[("RTU01", None)].refused) == {"bad_json": 1}
    assert report.tallies[("RTU01", STATUS_ROW)].accepted == 1
    text = render(report, UNIT_ENTERPRISE, 5, "zh")
    assert text.splitlines()[0].split()[:4] == ["设备", "点位", "接收", "拒收"]
    assert "（整条消息）" in text and "bad_value×1" in text
    assert render(CheckReport(), UNIT_ENTERPRISE, 5, "en") == f"no message from enterprise {UNIT_ENTERPRISE} in 5 s."


def test_report_escapes_device_data_for_the_terminal(directory: DeviceDirectory) -> None:
    """A point name is the device's text: an escape sequence in it must not reach the operator's terminal."""
    report = CheckReport()
    body = orjson.dumps({"v": 1, "readings": [{"point": "X\x1b[2J\nFORGED ROW", "value": 1}]})
    report.add(parse_message(Kind.TELEMETRY, UNIT_ENTERPRISE, "RTU01", body, RECV, directory, "en"))
    text = render(report, UNIT_ENTERPRISE, 5, "en")
    assert "\x1b" not in text and len(text.splitlines()) == 2, text


@pytest.mark.servers
async def test_check_watches_the_enterprise_feed(mosquitto: Settings, test_enterprise: IngestEnterprise,
                                                 device: aiomqtt.Client) -> None:
    settings = mosquitto.model_copy(update={"registry_dir": test_enterprise.registry_dir, "language": "en"})
    watching = asyncio.create_task(watch_enterprise(settings, test_enterprise.id, 3.0))
    await asyncio.sleep(1.0)
    topic = f"hazmon/v1/{test_enterprise.id}/RTU01/telemetry"
    await device.publish(topic, b'{"v":1,"readings":[{"point":"TK01_LT","value":1},{"point":"TK02_LT","value":1}]}', qos=1)
    await device.publish(topic, b'{"v":1,"readings":[{"point":"TK01_LT","value":true}]}', qos=1)
    report = await watching
    assert report.messages == 2
    assert report.tallies[("RTU01", "TK01_LT")].accepted == 1
    assert dict(report.tallies[("RTU01", "TK01_LT")].refused) == {"bad_value": 1}
    assert "registered to this device" in report.tallies[("RTU01", "TK02_LT")].last_detail
