"""Two hazmon platforms on one machine (data standard §11): the county (alerting on the test's Kafka topics and
InfluxDB database, its uplink) and the prefecture (``prefecture.service``: its own broker on a free port, its
record, InfluxDB database and API). A county alarm escalated to 州 reaches the prefecture's record, the
prefecture officer signs for it through the prefecture's API, and the county's record shows the 签收 by the
upper officer; then the county's uplink SIGKILLed and the prefecture's broker stopped for a while, mid-run,
and the prefecture's own process SIGKILLed mid-run: the prefecture's record has every version of every
alarm exactly once, as the county has it."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import sqlite3
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import orjson

from hazmon.exchange import up_topic
from hazmon.settings import Settings
from prefecture.service import Prefecture

from alerting.clock import ManualClock
from hazmon.topics import PlatformTopics
from testbed.alerting import T0, eventually, transition
from testbed.uplink import (COUNTY, COUNTY_NAMES, PREFECTURE_OFFICER, UpperBroker, drop_database, prefecture_api,
                            TopicOf, prefecture_settings, running_uplink, uplink_settings)
from tests.uplink.test_forward import suffix_of
from tests.uplink.test_outages import ALARMS as OUTAGE_ALARMS
from tests.uplink.test_outages import VERSIONS as OUTAGE_VERSIONS
from tests.uplink.test_outages import produce_paced

MIN = 60


async def recorded(prefecture: Prefecture, alarm_id: str) -> dict | None:
    return await prefecture.record.alarm(COUNTY, alarm_id)


async def test_prefecture_signs_for_an_alarm_escalated_to_it(start_service: Callable, names: PlatformTopics,
                                                             produce: Callable, alerting_settings: Settings,
                                                             upper: UpperBroker, prefecture: Prefecture,
                                                             unique: str) -> None:
    clock = ManualClock(T0)
    service = await start_service(clock)
    county = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}")
    async with running_uplink(county), prefecture_api(prefecture) as api, prefecture_api(prefecture, None) as anonymous:
        await produce(names.transitions, [
            transition("d1", "confirmed", "TK01_LT", level="high_high", value=10.8, limit=10.5, at=T0),
            transition("d2", "confirmed", "TK01_TT", level="high", value=72.0, limit=70.0, at=T0)])
        await eventually(lambda: service.book.get("d1") is not None and service.book.get("d2") is not None, 30,
                         "both alarms in the county's record")
        for minutes in (5, 10):   # the county's own escalator: to the county desk at 5 min, to 州 at 15
            clock.advance(minutes * MIN)
            await service.tick()
        await eventually(lambda: service.book.get("d1").escalation == 2, 30, "d1 escalated to 州 by the county")  # type: ignore[union-attr]

        async def escalated_at_prefecture() -> bool:
            alarm = await recorded(prefecture, "d1")
            return alarm is not None and alarm["escalated_to"] == "prefecture"
        await eventually(escalated_at_prefecture, 30, "d1 escalated to 州 in the prefecture's record")

        async with anonymous.post(f"/api/v1/prefecture/alarms/{COUNTY}/d1/ack", json={"comment": "x"}) as response:
            assert response.status == 401
        async with api.post(f"/api/v1/prefecture/alarms/{COUNTY}/d2/ack", json={"comment": "x"}) as response:
            assert (response.status, (await response.json())["error"]) == (409, "not_escalated")
        async with api.post(f"/api/v1/prefecture/alarms/{COUNTY}/d1/ack", json={"comment": "州应急局已签收，请县局督促处置"}) as response:
            assert response.status == 202, await response.text()
            action = await response.json()
        assert action["by"] == PREFECTURE_OFFICER
        async with api.post(f"/api/v1/prefecture/alarms/{COUNTY}/d1/ack", json={"comment": "again"}) as response:
            assert (response.status, (await response.json())["error"]) == (409, "already_acknowledged")

        await eventually(lambda: service.book.get("d1").acked_by is not None, 30, "the 签收 on the county's record")  # type: ignore[union-attr]

        async def acknowledged_at_prefecture() -> bool:
            alarm = await recorded(prefecture, "d1")
            return alarm is not None and alarm["state"] == "acknowledged"
        await eventually(acknowledged_at_prefecture, 30, "the county's acknowledged version in the prefecture's record")
        async with api.get(f"/api/v1/prefecture/alarms/{COUNTY}/d1") as response:
            at_prefecture = await response.json()
        async with api.get("/api/v1/prefecture/counties") as response:
            counties = {c["county"]: c for c in (await response.json())["counties"]}

    d1 = service.book.get("d1")
    assert d1 is not None
    assert (d1.state, d1.acked_by, d1.ack_comment) == ("acknowledged", f"prefecture/{PREFECTURE_OFFICER}",
                                                       "州应急局已签收，请县局督促处置")
    assert (at_prefecture["acked_by"], at_prefecture["county_name"], at_prefecture["version"]) == (
        f"prefecture/{PREFECTURE_OFFICER}", COUNTY_NAMES[COUNTY], d1.revision)
    assert [v["version"] for v in at_prefecture["versions"]] == list(range(1, d1.revision + 1))
    assert [v["change"] for v in at_prefecture["versions"]][-1] == "acknowledged"
    assert [a["sent_at"] is not None for a in at_prefecture["actions"]] == [True]
    assert counties[COUNTY]["name"] == "永顺县" and counties[COUNTY]["open_alarms"] == 2
    assert counties[COUNTY]["escalated_to_prefecture"] == 1


ALARMS, ROUNDS = 24, 6   # each alarm: raised, confirmed, then each round a changed level (escalated) … cleared


def uplink_process_env(county: Settings) -> dict[str, str]:
    names = ("uplink_county_id", "uplink_port", "uplink_password", "uplink_client_id", "uplink_group",
             "kafka_topic_suffix", "uplink_retry_s", "uplink_max_inflight", "uplink_publish_timeout_s",
             "kafka_bootstrap", "influx_db", "home")
    return {**os.environ, **{f"HAZMON_{name.upper()}": str(getattr(county, name)) for name in names}}


async def test_nothing_lost_nothing_doubled_through_a_killed_uplink_and_a_stopped_broker(
        start_service: Callable, names: PlatformTopics, produce: Callable, alerting_settings: Settings,
        upper: UpperBroker, prefecture: Prefecture, unique: str, tmp_path: Path) -> None:
    service = await start_service()
    county = uplink_settings(alerting_settings, upper, suffix_of(names), f"test-uplink-{unique}").model_copy(
        update={"uplink_max_inflight": 10})
    log = (tmp_path / "uplink.log").open("ab")

    def start_uplink() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "uplink", "run"], env=uplink_process_env(county),
                                stdout=log, stderr=subprocess.STDOUT)

    async def scenario() -> None:
        """Every alarm raised, confirmed, its level changing each round, then cleared: a paced county day."""
        ids = [f"s{n:02d}" for n in range(ALARMS)]
        await produce(names.transitions, [transition(a, "raised", "TK01_LT", at=T0) for a in ids])
        await produce(names.transitions, [transition(a, "confirmed", "TK01_LT", at=T0 + 1_000) for a in ids])
        for step in range(ROUNDS):
            level, value = ("high_high", 10.8 + step) if step % 2 == 0 else ("high", 9.6 + step)
            await produce(names.transitions, [transition(a, "escalated", "TK01_LT", level=level, value=value,
                                                         at=T0 + (step + 2) * 1_000) for a in ids])
            await asyncio.sleep(0.4)
        await produce(names.transitions, [transition(a, "cleared", "TK01_LT", at=T0 + 60_000) for a in ids])

    async def prefecture_versions() -> int:
        return sum(len(v) for v in (await prefecture.record.versions(COUNTY)).values())

    uplink = start_uplink()
    try:
        producing = asyncio.create_task(scenario())
        await eventually(lambda: prefecture.ingest.versions >= ALARMS, 60,
                         f"the first versions at the prefecture: {(tmp_path / 'uplink.log').read_text()[-2000:]}")
        uplink.send_signal(signal.SIGKILL)
        uplink.wait(10)
        at_kill = prefecture.ingest.versions
        await asyncio.sleep(2.0)
        uplink = start_uplink()
        await eventually(lambda: prefecture.ingest.versions > at_kill, 60, "versions again after the restart")
        upper.stop()   # the prefecture's broker: both the county's uplink and the prefecture's ingest lose it
        at_stop = prefecture.ingest.versions
        await asyncio.sleep(3.0)
        upper.start()
        await producing
        expected = {a: service.book.get(a) for a in (f"s{n:02d}" for n in range(ALARMS))}
        await eventually(lambda: all(alarm is not None and alarm.state == "cleared" for alarm in expected.values()), 60,
                         "every alarm cleared in the county's record")
        total = sum(alarm.revision for alarm in expected.values())  # type: ignore[union-attr]

        async def complete() -> bool:
            return await prefecture_versions() >= total
        await eventually(complete, 90, "every version of every alarm at the prefecture")
        await asyncio.sleep(1.0)   # anything still coming would be a repeat
    finally:
        uplink.terminate()
        uplink.wait(10)
        log.close()

    assert at_kill < total and at_stop < total, "both outages were in the middle of the run"
    versions = await prefecture.record.versions(COUNTY)
    for alarm_id, alarm in expected.items():
        assert alarm is not None
        assert versions[alarm_id] == list(range(1, alarm.revision + 1)), f"{alarm_id}: {versions[alarm_id]}"
        at_prefecture = await prefecture.record.alarm(COUNTY, alarm_id)
        assert at_prefecture is not None
        assert (at_prefecture["version"], at_prefecture["state"]) == (alarm.revision, "cleared")
    assert prefecture.ingest.versions == total, prefecture.ingest.repeats   # each version applied once; what came again was a repeat
    assert prefecture.ingest.refused == 0


def prefecture_process_env(settings: Settings) -> dict[str, str]:
    names = ("prefecture_broker_port", "prefecture_platform_user", "prefecture_platform_password", "prefecture_client_id",
             "prefecture_retry_s", "prefecture_api_port", "prefecture_record_file", "influx_db", "home")
    env = {f"HAZMON_{name.upper()}": str(getattr(settings, name)) for name in names}
    env["HAZMON_PREFECTURE_COUNTIES"] = orjson.dumps(settings.prefecture_counties).decode()
    return {**os.environ, **env}


async def test_the_prefecture_killed_mid_run_loses_nothing(kafka: str, settings: Settings, upper: UpperBroker,
                                                           platform_topic: TopicOf, unique: str,
                                                           tmp_path: Path) -> None:
    """``hazmon prefecture run`` SIGKILLed while versions come in and started again: its ingest acknowledges a
    batch only after the record's commit, so what it had not recorded comes again from its broker session."""
    suffix, topic = await platform_topic("changes")
    county = uplink_settings(settings, upper, suffix, f"test-uplink-{unique}")
    upper_settings = prefecture_settings(settings, upper, tmp_path / "prefecture", f"test_prefecture_{unique}").model_copy(
        update={"prefecture_record_file": tmp_path / "prefecture" / "record.sqlite3"})
    log = (tmp_path / "prefecture.log").open("ab")

    def start_prefecture() -> subprocess.Popen:
        return subprocess.Popen([sys.executable, "-m", "hzctl.cli", "prefecture", "run"],
                                env=prefecture_process_env(upper_settings), stdout=log, stderr=subprocess.STDOUT)

    def recorded() -> dict[str, list[int]]:
        """The versions in the prefecture's record file (read while the process writes it: WAL)."""
        path = upper_settings.prefecture_record_path
        if not path.exists():
            return {}
        with contextlib.closing(sqlite3.connect(path)) as db:
            try:
                rows = db.execute("SELECT id, version FROM versions WHERE county = ? ORDER BY id, version", (COUNTY,))
                found: dict[str, list[int]] = {}
                for alarm_id, version in rows:
                    found.setdefault(alarm_id, []).append(version)
                return found
            except sqlite3.OperationalError:   # not created yet
                return {}

    prefecture = start_prefecture()
    try:   # its session exists before the county publishes (the broker keeps nothing for an unknown subscriber)
        await eventually(lambda: "prefecture ingest subscribed" in (tmp_path / "prefecture.log").read_text(), 120,
                         "the prefecture subscribed")
        async with running_uplink(county):
            producing = asyncio.create_task(produce_paced(kafka, topic, 0.05))
            await eventually(lambda: sum(map(len, recorded().values())) >= 5 * OUTAGE_ALARMS, 60,
                             f"the first versions recorded: {(tmp_path / 'prefecture.log').read_text()[-2000:]}")
            prefecture.send_signal(signal.SIGKILL)
            prefecture.wait(10)
            at_kill = sum(map(len, recorded().values()))
            await asyncio.sleep(2.0)
            prefecture = start_prefecture()
            await producing
            await eventually(lambda: sum(map(len, recorded().values())) >= OUTAGE_ALARMS * OUTAGE_VERSIONS,
                             180, "every version recorded after the restart")
    finally:
        prefecture.terminate()
        prefecture.wait(10)
        log.close()
        await drop_database(settings, upper_settings.influx_db)
    assert at_kill < OUTAGE_ALARMS * OUTAGE_VERSIONS
    assert recorded() == {f"a{n:02d}": list(range(1, OUTAGE_VERSIONS + 1)) for n in range(OUTAGE_ALARMS)}


async def test_a_record_failing_for_a_while_loses_nothing(upper: UpperBroker, prefecture: Prefecture) -> None:
    """The prefecture's record locked by another writer for longer than SQLite waits: the batch is not recorded,
    so it is not acknowledged; the connection ends and the broker's session gives it again (fails when the
    ingest acknowledges before its commit: checked)."""
    def body(version: int) -> bytes:
        return orjson.dumps({"v": 1, "county": COUNTY, "id": "L1", "version": version, "change": "escalated",
                             "changed_at": version, "changed_by": None, "enterprise": "E1", "state": "active",
                             "escalated_to": "enterprise"})

    async def versions() -> list[int]:
        return (await prefecture.record.versions(COUNTY)).get("L1", [])

    async with upper.county_client(COUNTY) as county:
        for version in range(1, 21):
            await county.publish(up_topic(COUNTY, "alarm"), body(version), qos=1)
        await eventually(lambda: prefecture.ingest.versions == 20, 30, "the first 20 versions recorded")
        with contextlib.closing(sqlite3.connect(prefecture.settings.prefecture_record_path, isolation_level=None)) as other:
            other.execute("BEGIN EXCLUSIVE")   # another writer holds the record past SQLite's 5 s busy wait
            for version in range(21, 41):
                await county.publish(up_topic(COUNTY, "alarm"), body(version), qos=1)
            await asyncio.sleep(8.0)
            assert prefecture.ingest.versions == 20
            other.execute("ROLLBACK")
        await eventually(lambda: prefecture.ingest.versions == 40, 60, "every version once the record is free")
    assert await versions() == list(range(1, 41))
    assert prefecture.ingest.connections >= 2   # the failure ended the connection: the batch came again
