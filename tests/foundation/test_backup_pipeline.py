"""``hazmon backup`` of a running pipeline, restored into a fresh home (its own topics, database and
secrets file) where only alerting is started: its API shows the same alarms (ids, states, rules, the
officer's acknowledgement) and InfluxDB the same readings, as the source platform showed them.

The source run: a fire event and a transmission unit gone offline (two alarms), the fire alarm
acknowledged by the duty desk, and a tank's readings; ingest and the rules worker stopped once it
is all in, alerting still running while the backup is taken (an online backup)."""

from __future__ import annotations

import asyncio
import time
from pathlib import Path

import aiomqtt
import orjson
import pytest

from hzctl.backup import backup, restore
from hazmon.registry import load_registry
from hazmon.secrets import load_secrets
from hazmon.settings import Settings
from tests.e2e.officer import ACK
from testbed.pipeline import IsolatedPipeline
from tests.e2e.runs import sample_county
from testbed.kafka_admin import unique_name

pytestmark = pytest.mark.servers
FIRE = "12433127MB1FIRE003"    # of the sample registry: detector FAC1_Z07, transmission unit FTU01
CHEM = "91433127MA4CHEM001"    # tank level TK01_LT on device RTU01
READINGS = 40
WAIT_S = 60.0


async def until(check, timeout_s: float = WAIT_S):  # type: ignore[no-untyped-def]
    """``check()``'s answer once it is truthy, or the last one after ``timeout_s``."""
    deadline = time.monotonic() + timeout_s
    while not (answer := await check()) and time.monotonic() < deadline:
        await asyncio.sleep(0.3)
    return answer


async def publish_run(settings: Settings, ids: dict[str, str], secrets_file: Path, unique: str) -> None:
    secrets = load_secrets(secrets_file)
    now = int(time.time() * 1000)
    fire, chem = ids[FIRE], ids[CHEM]
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=chem,
                              password=secrets.enterprise(chem).mqtt_password, identifier=f"bk-chem-{unique}",
                              protocol=aiomqtt.ProtocolVersion.V5) as device:
        for seq in range(READINGS):
            await device.publish(f"hazmon/v1/{chem}/RTU01/telemetry", orjson.dumps(
                {"v": 1, "ts": now - (READINGS - seq) * 10_000, "seq": seq,
                 "readings": [{"point": "TK01_LT", "value": 5.0 + seq / 100}]}), qos=1)
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=fire,
                              password=secrets.enterprise(fire).mqtt_password, identifier=f"bk-fire-{unique}",
                              protocol=aiomqtt.ProtocolVersion.V5) as device:
        await device.publish(f"hazmon/v1/{fire}/FAC1/event", orjson.dumps(
            {"v": 1, "ts": now, "point": "FAC1_Z07", "event": "fire", "text": "3F 东走廊 烟感"}), qos=1)
        await device.publish(f"hazmon/v1/{fire}/FTU01/status", orjson.dumps({"v": 1, "online": False, "ts": now}),
                             qos=1)


async def alarm_details(run: IsolatedPipeline, ids: set[str]) -> dict[str, dict]:
    """The detail (state, lifecycle, actions) of each alarm of ``ids`` by the run's API, or {} while one is unknown."""
    details = {}
    for alarm_id in sorted(ids):
        status, body = await run.call("GET", f"/api/v1/alarms/{alarm_id}")
        if status != 200:
            return {}
        details[alarm_id] = body
    return details


async def settled_details(run: IsolatedPipeline, ids: set[str]) -> dict[str, dict]:
    """``alarm_details`` once every alarm is known and nothing changed in a second: alerting has folded
    every record (the rules may have raised more, e.g. the tank's device gone silent, just before they stopped)."""
    previous: dict[str, dict] = {}
    deadline = time.monotonic() + WAIT_S
    while time.monotonic() < deadline:
        current = await alarm_details(run, ids)
        if current and current == previous:
            return current
        previous = current
        await asyncio.sleep(1.0)
    return previous


async def test_a_running_platform_backed_up_and_restored_into_a_fresh_home_shows_the_same_alarms_and_readings(
        mosquitto: Settings, kafka: str, influxdb: Settings, settings: Settings, tmp_path: Path, unique: str) -> None:
    source, ids, platform_secrets = sample_county(settings, tmp_path, unique, FIRE, CHEM)
    fresh_home = tmp_path / "fresh-home"
    fresh_settings = settings.model_copy(update={"secrets_file": fresh_home / "secrets.json"})
    restored = IsolatedPipeline(fresh_settings, fresh_home, tmp_path / "fresh-registry", unique_name(),
                                platform_secrets.duty_token)
    try:
        await source.start()
        await publish_run(settings, ids, settings.secrets_path, unique)
        alarms = await until(lambda: _rules_seen(source, {"fire", "offline"}))
        assert alarms, source.supervisor.children["rules"].log_tail()
        fire_alarm = next(a["id"] for a in alarms if a["rule"] == "fire")
        status, body = await source.call("POST", f"/api/v1/alarms/{fire_alarm}/ack", ACK)
        assert status == 200, body
        assert await until(lambda: _readings_at_least(source, READINGS)), "readings never reached InfluxDB"
        source.supervisor.stop("ingest")
        source.supervisor.stop("rules")
        ids = {transition["id"] for transition in await source.transitions()}
        before = await settled_details(source, ids)
        assert set(before) == ids, (ids, before.keys())
        readings_before = await source.influx_query('SELECT "value", "point" FROM "raw"."reading"')
        assert before[fire_alarm]["acked_at"] is not None and before[fire_alarm]["ack_comment"] == ACK["comment"], before

        source_settings = settings.model_copy(update={"home": source.home, "registry_dir": source.county_dir,
                                                      "secrets_file": settings.secrets_path, "cache_dir": settings.cache_path,
                                                      "influx_db": source.influx_db, "kafka_topic_suffix": source.suffix})
        manifest = await asyncio.to_thread(backup, source_settings, tmp_path / "backup")
        source.supervisor.stop_all()
        assert manifest["items"]["alarm_record"]["hazmon.alarm-transitions.v1"]["alarms"] == len(before)

        target = settings.model_copy(update={"home": fresh_home, "registry_dir": restored.county_dir,
                                             "secrets_file": None, "cache_dir": settings.cache_path,
                                             "influx_db": restored.influx_db, "kafka_topic_suffix": restored.suffix})
        await asyncio.to_thread(restore, target, tmp_path / "backup")
        assert load_secrets(fresh_home / "secrets.json").duty_token == platform_secrets.duty_token
        assert load_registry(restored.county_dir).enterprises.keys() == load_registry(source.county_dir).enterprises.keys()
        restored.start_alerting()
        await restored.wait_api()
        assert await settled_details(restored, ids) == before
        readings_after = await until(lambda: _readings_if(restored, readings_before), 15)
        assert readings_after == readings_before and len(readings_before) == READINGS
    finally:
        source.supervisor.stop_all()
        restored.supervisor.stop_all()
        for run in (source, restored):
            await run.drop_database()
            await run.drop_topics()


async def _rules_seen(run: IsolatedPipeline, rules: set[str]) -> list[dict]:
    alarms = await run.alarms()
    return alarms if rules <= {a["rule"] for a in alarms} else []


async def _readings_at_least(run: IsolatedPipeline, count: int) -> bool:
    return await run.influx_readings() >= count


async def _readings_if(run: IsolatedPipeline, expected: list[list]) -> list[list]:
    rows = await run.influx_query('SELECT "value", "point" FROM "raw"."reading"')
    return rows if rows == expected else []
