"""InfluxDB after a scenario (readings, counters, transitions, actions) holds exactly what it implies, and still
exactly that after a forced replay: alerting puts its lines on the series topic, the recorder writes them
and everything else (real Kafka and InfluxDB)."""

from __future__ import annotations

import asyncio

import pytest

from hazmon.settings import Settings
from hazmon.wire import AlarmAction, ReadingBatch

from alerting.clock import ManualClock
from alerting.service import AlertingService
from recorder.service import Recorder
from testbed.alerting import CHEM, T0, eventually, query, transition

pytestmark = pytest.mark.servers
S = 1000


async def snapshot(settings: Settings) -> dict[str, list]:
    alarms = await query(settings, "SELECT * FROM alarm")
    readings = await query(settings, 'SELECT * FROM "raw".reading')
    risk = await query(settings, "SELECT * FROM enterprise_risk")
    counters = await query(settings, "SELECT * FROM platform_ingest")
    return {
        "alarm": [(r["time"], r["id"], r["point"], r["rule"], r["level"], r["state"], r["transition"], r["value"])
                  for r in alarms],
        "reading": [(r["time"], r["enterprise"], r["site"], r["point"], r["type"], r["value"]) for r in readings],
        "enterprise_risk": [(r["time"], r["enterprise"], r["level"], r["color"], r["active_alarms"]) for r in risk],
        "platform_ingest": [(r["time"], r["enterprise"], r["accepted"], r["gaps"], r["refused_bad_value"]) for r in counters],
    }


EXPECTED = {
    "alarm": [
        (T0 + 10 * S, "c1", "TK01_LT", "limit", "high", "active", "confirmed", 9.6),
        (T0 + 20 * S, "c1", "TK01_LT", "limit", "high_high", "active", "escalated", 10.7),
        (T0 + 30 * S, "c1", "TK01_LT", "limit", "high_high", "acknowledged", "acknowledged", 10.7),
        (T0 + 60 * S, "c1", "TK01_LT", "limit", "high_high", "cleared", "cleared", 9.0),
        (T0 + 70 * S, "c1", "TK01_LT", "limit", "high_high", "closed", "closed", 9.0),
    ],
    "reading": [
        (T0, CHEM, "TF01", "TK01_LT", "tank_level", 9.6),
        (T0, CHEM, "TF01", "TK01_TT", "temperature", 30.5),
        (T0 + 10 * S, CHEM, "TF01", "TK01_LT", "tank_level", 10.7),
        (T0 + 20 * S, CHEM, "TF01", "TK01_LT", "tank_level", 9.0),
    ],
    "enterprise_risk": [
        (T0 + 10 * S, CHEM, 1, "yellow", 1),
        (T0 + 20 * S, CHEM, 3, "red", 1),
        (T0 + 60 * S, CHEM, 0, "blue", 0),
    ],
    "platform_ingest": [(T0 + 60 * S, CHEM, 4, 1, 2)],
}


def action(kind: str, ts: int, **fields) -> AlarmAction:
    return AlarmAction(v=1, action_id=f"{kind}-{ts}", action=kind, enterprise=CHEM, ts=ts, by="duty", alarm="c1", **fields)


def all_lines_written(recorder: Recorder, *services: AlertingService):
    """A check for :func:`eventually`: the recorder wrote every line the services submitted to the series topic."""
    writer = next(w for w in recorder.writers if w.topic == recorder.names.series)
    return lambda: writer.points_written == sum(service.series.lines for service in services)


async def test_series_are_exact_and_a_replay_duplicates_nothing(start_service, start_recorder, produce, names,
                                                                alerting_settings: Settings) -> None:
    service = await start_service(ManualClock(T0))
    recorder = await start_recorder()
    batch = ReadingBatch(v=1, enterprise=CHEM, device="RTU01", recv_ms=T0 + 20 * S,
                         points=["TK01_LT", "TK01_TT", "TK01_LT", "TK01_LT"], ts=[T0, T0, T0 + 10 * S, T0 + 20 * S],
                         values=[9.6, 30.5, 10.7, 9.0], q=[0, 0, 0, 0], ts_src=[0, 0, 0, 0])
    await produce(names.readings, [batch])
    await produce(names.ingest_stats, [{"v": 1, "enterprise": CHEM, "window_end_ms": T0 + 60 * S, "accepted": 4,
                                        "duplicates": 0, "gaps": 1, "refused": {"bad_value": 2}}])
    await produce(names.transitions, [
        transition("c1", "raised", "TK01_LT", value=9.6, started_at=T0, at=T0 + 5 * S),
        transition("c1", "confirmed", "TK01_LT", value=9.6, started_at=T0, at=T0 + 10 * S),
    ])
    await eventually(lambda: service.book.get("c1") is not None and service.book.get("c1").state == "active"
                     and service.book.get("c1").revision >= 2, what="raised and confirmed folded")
    await produce(names.transitions, [       # a batch of its own: colours are evaluated once per folded batch
        transition("c1", "escalated", "TK01_LT", level="high_high", value=10.7, limit=10.5, started_at=T0, at=T0 + 20 * S),
    ])
    await eventually(lambda: service.book.get("c1").level == "high_high")
    await service.act(action("ack", T0 + 30 * S, comment="到场"))
    await produce(names.transitions, [transition("c1", "cleared", "TK01_LT", level="high_high", value=9.0, limit=10.5,
                                                 started_at=T0, at=T0 + 60 * S)])
    await eventually(lambda: service.book.get("c1").state == "cleared")
    await service.act(action("close", T0 + 70 * S, note="处置完毕"))

    expected = {**EXPECTED, "alarm": [(T0 + 5 * S, "c1", "TK01_LT", "limit", "high", "active", "raised", 9.6),
                                      *EXPECTED["alarm"]]}

    async def written() -> bool:
        return await snapshot(alerting_settings) == expected
    await eventually(written, 20.0, "the scenario's points in InfluxDB")
    alarms = await query(alerting_settings, "SELECT started_at, note, transition FROM alarm")
    assert {r["started_at"] for r in alarms} == {T0}
    assert [(r["transition"], r["note"]) for r in alarms if r["note"] is not None] == [("closed", "处置完毕")]
    counters = [asyncio.create_task(service.metrics.run(0.2)), asyncio.create_task(recorder.metrics.run(0.2))]

    async def pipeline_reported() -> bool:
        alerting = await query(alerting_settings, "SELECT lag FROM pipeline WHERE component = 'alerting'")
        recording = await query(alerting_settings, "SELECT lag, points_per_s, influx_set_aside FROM pipeline "
                                                   "WHERE component = 'recorder'")
        return (bool(alerting) and alerting[-1]["lag"] == 0 and bool(recording) and recording[-1]["lag"] == 0
                and recording[-1]["influx_set_aside"] == 0)
    await eventually(pipeline_reported, 10.0, "alerting's and the recorder's pipeline counters")
    for task in counters:
        task.cancel()
    await service.stop()
    # forced replay: a new instance without a ledger folds the whole log again and puts its lines on the
    # series topic again; a recorder of a new group reads every topic again
    replay_settings = alerting_settings.model_copy(update={"alerting_group": alerting_settings.alerting_group + "-replay",
                                                           "alerting_ledger_file": alerting_settings.home / "replay.sqlite3"})
    replayed = await start_service(ManualClock(T0 + 80 * S), settings=replay_settings)
    rerecorder = await start_recorder(replay_settings)
    await eventually(lambda: sum(w.points_written for w in rerecorder.writers[:2]) == 5, 20.0,
                     "readings and counters re-written")
    await eventually(all_lines_written(rerecorder, service, replayed), 20.0, "alerting's lines re-written")
    assert replayed.book.get("c1") is None and (await replayed.ledger.alarm("c1")).state == "closed"   # left memory
    assert await snapshot(alerting_settings) == expected


async def test_two_changes_of_one_series_in_one_millisecond_are_two_points(start_service, start_recorder, produce,
                                                                          names, alerting_settings: Settings) -> None:
    """Two recorded fire events of one point in one batch share the tags and the emitted time: both are
    written (the second a millisecond later), and a replay rewrites the same two points."""
    recorded = [transition(alarm_id, "recorded", "FAC1_Z07", rule="fire", level=None, value=None, limit=None, at=T0)
                for alarm_id in ("r1", "r2")]
    service = await start_service(ManualClock(T0))
    recorder = await start_recorder()
    await produce(names.transitions, recorded)
    await eventually(lambda: service.book.get("r2") is not None)
    await eventually(all_lines_written(recorder, service), 20.0, "alerting's lines written")
    expected = [(T0, "r1"), (T0 + 1, "r2")]
    assert [(r["time"], r["id"]) for r in await query(alerting_settings, "SELECT id FROM alarm")] == expected
    await service.stop()
    replay_settings = alerting_settings.model_copy(update={"alerting_ledger_file": alerting_settings.home / "replay.sqlite3"})
    replayed = await start_service(ManualClock(T0), settings=replay_settings)
    await eventually(lambda: replayed.book.get("r2") is not None)
    await eventually(all_lines_written(recorder, service, replayed), 20.0, "the replay's lines written")
    assert [(r["time"], r["id"]) for r in await query(alerting_settings, "SELECT id FROM alarm")] == expected


async def databases(settings: Settings) -> list[str]:
    return [row["name"] for row in await query(settings, "SHOW DATABASES")]


async def test_alerting_writes_no_influxdb_the_recorder_writes_its_alarm_states(
        start_service, start_recorder, produce, names, alerting_settings: Settings) -> None:
    """Alerting alone folds an alarm, notifies and puts its lines on Kafka, and InfluxDB does not even hold
    the database; a recorder started later writes the alarm's states and the enterprise's colour."""
    service = await start_service(ManualClock(T0))
    await produce(names.transitions, [transition("w1", "confirmed", "TK01_LT", value=9.6, started_at=T0, at=T0 + 10 * S)])
    await eventually(lambda: service.book.get("w1") is not None)   # colours are evaluated once per folded batch
    await produce(names.transitions, [transition("w1", "escalated", "TK01_LT", level="high_high", value=10.7,
                                                 limit=10.5, started_at=T0, at=T0 + 20 * S)])
    await eventually(lambda: service.series.lines == 4 and service.series.queued == 0, 20.0, "two alarm records and two colours on the series topic")
    await asyncio.sleep(1.0)                    # a writer inside alerting would have flushed by now (0.1 s)
    assert alerting_settings.influx_db not in await databases(alerting_settings)
    await start_recorder()

    async def states() -> list[tuple]:
        rows = await query(alerting_settings, "SELECT id, state, level, transition FROM alarm")
        return [(r["time"], r["id"], r["state"], r["level"], r["transition"]) for r in rows]
    await eventually(lambda: _equals(states, [(T0 + 10 * S, "w1", "active", "high", "confirmed"),
                                              (T0 + 20 * S, "w1", "active", "high_high", "escalated")]),
                     20.0, "the alarm's states written by the recorder")
    risk = await query(alerting_settings, "SELECT color FROM enterprise_risk")
    assert [(r["time"], r["color"]) for r in risk] == [(T0 + 10 * S, "yellow"), (T0 + 20 * S, "red")]


async def _equals(rows, expected: list) -> bool:
    return await rows() == expected
