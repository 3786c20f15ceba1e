"""The prefecture's record (prefecture.record, a real SQLite file) and its checks of the counties' messages
(prefecture.up_messages): the highest version per alarm, each version once, never back; a county speaks
only for itself; an officer signs once, only for an alarm escalated to the prefecture."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import orjson
import pytest

from hazmon.exchange import up_topic
from prefecture.record import ActionRefused, CountyRecord, UpBatch
from prefecture.up_messages import UpRefused, UpSorter
from testbed.uplink import COUNTY, OTHER


def alarm(version: int, state: str = "active", escalated_to: str = "prefecture", alarm_id: str = "a1") -> dict:
    return {"v": 1, "county": COUNTY, "id": alarm_id, "version": version, "change": f"change{version}",
            "changed_at": 1000 + version, "changed_by": None, "enterprise": "E1", "state": state,
            "escalated_to": escalated_to, "acked_by": None}


@pytest.fixture
def record(tmp_path: Path) -> Iterator[CountyRecord]:
    opened = CountyRecord(tmp_path / "record.sqlite3")
    yield opened
    opened.close()


async def test_highest_version_kept_each_version_once(record: CountyRecord) -> None:
    first = await record.record(UpBatch(alarms=[(COUNTY, alarm(1)), (COUNTY, alarm(2)), (COUNTY, alarm(3))]), 10)
    again = await record.record(UpBatch(alarms=[(COUNTY, alarm(2)), (COUNTY, alarm(1)), (COUNTY, alarm(3))]), 20)
    late = await record.record(UpBatch(alarms=[(COUNTY, alarm(5)), (COUNTY, alarm(4))]), 30)   # an older one after
    assert (first.versions, first.repeats, again.versions, again.repeats, late.versions) == (3, 0, 0, 3, 2)
    current = await record.alarm(COUNTY, "a1")
    assert current is not None and current["version"] == 5
    assert [v["version"] for v in current["versions"]] == [1, 2, 3, 4, 5]
    assert [v["received_at"] for v in current["versions"]] == [10, 10, 10, 30, 30]   # the first arrival's time
    assert await record.alarm(OTHER, "a1") is None   # keyed by county: ids are each county's own


async def test_an_officer_signs_once_for_an_alarm_escalated_to_the_prefecture(record: CountyRecord) -> None:
    await record.record(UpBatch(alarms=[(COUNTY, alarm(1, escalated_to="county", alarm_id="c1")),
                                        (COUNTY, alarm(2, alarm_id="p1")), (COUNTY, alarm(3, "closed", alarm_id="x1"))]), 1)
    refusals = {}
    for alarm_id in ("c1", "x1", "nope"):
        with pytest.raises(ActionRefused) as refused:
            await record.take_ack(f"id-{alarm_id}", COUNTY, alarm_id, "李四", "", 5)
        refusals[alarm_id] = refused.value.code
    assert refusals == {"c1": "not_escalated", "x1": "closed", "nope": "unknown_alarm"}
    action = await record.take_ack("id-p1", COUNTY, "p1", "李四", "已签收", 5)
    with pytest.raises(ActionRefused, match="already"):
        await record.take_ack("id-p1-again", COUNTY, "p1", "王五", "", 6)
    assert await record.unsent() == [action]
    assert orjson.loads(action.message()) == {"v": 1, "id": "id-p1", "alarm": "p1", "action": "ack", "by": "李四",
                                              "comment": "已签收", "ts": 5, "enterprise": "E1"}
    await record.mark_sent([action.down["id"]], 7)
    assert await record.unsent() == []


@pytest.mark.parametrize(("topic", "body", "reason"), [
    (up_topic(COUNTY, "alarm"), {**alarm(1), "county": OTHER}, "county of the body"),   # speaking for another county
    (up_topic("999999", "alarm"), {**alarm(1), "county": "999999"}, "not a county of this prefecture"),
    ("hazmon/v1/down/433127/action", alarm(1), "not an up topic"),
    (up_topic(COUNTY, "alarm"), {**alarm(1), "version": "1"}, "version"),
    (up_topic(COUNTY, "alarm"), {**alarm(1), "v": 2}, "version 1"),
    (up_topic(COUNTY, "risk"), {"v": 1, "county": COUNTY, "enterprise": "E1", "color": "red", "level": True,
                                "active_alarms": 1, "ts": 1}, "level"),
])
def test_a_county_message_that_does_not_apply_is_refused(topic: str, body: dict, reason: str) -> None:
    sorter = UpSorter(frozenset({COUNTY, OTHER}))
    with pytest.raises(UpRefused, match=reason):
        sorter.add(topic, orjson.dumps(body))
    assert sorter.batch == UpBatch() and sorter.lines == []


def test_risk_heartbeat_and_readings_become_points_tagged_with_the_county() -> None:
    sorter = UpSorter(frozenset({COUNTY}))
    sorter.add(up_topic(COUNTY, "risk"), orjson.dumps({"v": 1, "county": COUNTY, "enterprise": "E 1", "color": "red",
                                                       "level": 2, "active_alarms": 1, "ts": 5}))
    sorter.add(up_topic(COUNTY, "heartbeat"), orjson.dumps({"v": 1, "county": COUNTY, "ts": 6, "enterprises": 3,
                                                            "points": 9, "backlog": 0}))
    sorter.add(up_topic(COUNTY, "readings"), orjson.dumps({"v": 1, "county": COUNTY, "enterprise": "E1", "device": "D1",
                                                           "readings": [{"point": "P1", "value": 1, "ts": 7, "q": "good"}]}))
    assert sorter.lines == [
        f'county_risk,county={COUNTY},enterprise=E\\ 1 level=2i,color="red",active_alarms=1i 5',
        f"county_heartbeat,county={COUNTY} enterprises=3i,points=9i,backlog=0i 6",
        f'county_reading,county={COUNTY},enterprise=E1,device=D1,point=P1 value=1.0,q="good" 7']
    assert [county for county, _ in sorter.batch.risk + sorter.batch.heartbeats] == [COUNTY, COUNTY]


def colour(color: str, level: int, ts: int) -> tuple[str, dict]:
    return COUNTY, {"v": 1, "county": COUNTY, "enterprise": "E1", "color": color, "level": level, "active_alarms": level,
                    "ts": ts}


async def test_a_colour_is_the_countys_latest_word_whatever_its_time(record: CountyRecord) -> None:
    """Risk carries no version (§11): the record keeps the colour the county sent last, so that a colour stamped
    earlier than the one before it (a late reading) still shows and the next full round corrects anything."""
    await record.record(UpBatch(risk=[colour("blue", 0, 0), colour("orange", 2, 900)]), 10)
    await record.record(UpBatch(risk=[colour("red", 3, 500)]), 20)   # stamped before the orange it follows
    assert [(r["color"], r["ts"]) for r in await record.risk(COUNTY)] == [("red", 500)]
    await record.record(UpBatch(risk=[colour("yellow", 1, 400), colour("blue", 0, 0)]), 30)
    assert [(r["color"], r["ts"]) for r in await record.risk(COUNTY)] == [("blue", 0)]


def test_a_colour_without_a_time_of_its_own_is_no_point() -> None:
    """The county's blue for an enterprise nothing coloured yet (``ts`` 0) goes to the record, not to InfluxDB."""
    sorter = UpSorter(frozenset({COUNTY}))
    sorter.add(up_topic(COUNTY, "risk"), orjson.dumps(colour("blue", 0, 0)[1]))
    assert [r["color"] for _, r in sorter.batch.risk] == ["blue"] and sorter.lines == []
