"""The pure parser against every rule of the data standard §3–§6."""

from __future__ import annotations

import orjson
import pytest

from hazmon.wire import Quality, TsSource
from ingest.directory import DeviceDirectory
from ingest.parser import MAX_BYTES, MAX_READINGS, Verdict, parse_message
from ingest.topics import Kind
from tests.ingest.conftest import UNIT_ENTERPRISE

RECV = 1_764_376_900_000  # 2025-11-29T00:41:40Z
E = UNIT_ENTERPRISE


def telemetry(directory: DeviceDirectory, body: object, device: str = "RTU01", raw: bytes | None = None,
              language: str = "en") -> Verdict:
    payload = raw if raw is not None else orjson.dumps(body)
    return parse_message(Kind.TELEMETRY, E, device, payload, RECV, directory, language)


def reasons(verdict: Verdict) -> list[tuple[str, int | None]]:
    return [(r.reason.value, r.reading_index) for r in verdict.refusals]


def test_integer_ms_timestamps_of_message_and_reading(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "ts": RECV - 5000, "seq": 7, "readings": [
        {"point": "TK01_LT", "value": 7.42, "ts": RECV - 9000},
        {"point": "TK01_TT", "value": 31, "q": "uncertain"}]})
    assert verdict.refusals == []
    assert verdict.seq == 7
    r = verdict.readings
    assert r.points == ["TK01_LT", "TK01_TT"]
    assert r.ts == [RECV - 9000, RECV - 5000]
    assert r.values == [7.42, 31.0] and isinstance(r.values[1], float)
    assert r.q == [Quality.GOOD, Quality.UNCERTAIN]
    assert r.ts_src == [TsSource.READING, TsSource.MESSAGE]


def test_rfc3339_timestamps_with_offset(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "ts": "2025-11-29T08:40:00.123+08:00", "readings": [
        {"point": "TK01_LT", "value": 1.0},
        {"point": "TK01_TT", "value": 2.0, "ts": "2025-11-29T00:39:00Z"}]})
    assert verdict.refusals == []
    assert verdict.readings.ts == [1_764_376_800_123, 1_764_376_740_000]


@pytest.mark.parametrize("ts", ["2025-11-29T08:40:00", "2025-11-29", "yesterday", "20251129T084000+0800",
                                1.5, True, -1, [1]])
def test_unparseable_reading_ts_is_bad_ts(directory: DeviceDirectory, ts: object) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [{"point": "TK01_LT", "value": 1, "ts": ts},
                                                         {"point": "TK01_TT", "value": 2}]})
    assert reasons(verdict) == [("bad_ts", 0)]
    assert verdict.readings.points == ["TK01_TT"]


def test_message_without_ts_takes_receive_time_and_is_marked(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [{"point": "TK01_LT", "value": 1}]})
    assert verdict.readings.ts == [RECV]
    assert verdict.readings.ts_src == [TsSource.PLATFORM]


def test_future_beyond_five_minutes_is_bad_ts_and_within_is_kept(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [
        {"point": "TK01_LT", "value": 1, "ts": RECV + 5 * 60_000 + 1},
        {"point": "TK01_TT", "value": 2, "ts": RECV + 5 * 60_000}]})
    assert reasons(verdict) == [("bad_ts", 0)]
    assert "future" in verdict.refusals[0].detail
    assert verdict.readings.points == ["TK01_TT"]


def test_bad_message_ts_refuses_the_readings_that_rely_on_it(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "ts": RECV + 3_600_000, "readings": [
        {"point": "TK01_LT", "value": 1}, {"point": "TK01_TT", "value": 2, "ts": RECV}]})
    assert reasons(verdict) == [("bad_ts", 0)]
    assert verdict.readings.points == ["TK01_TT"]


@pytest.mark.parametrize("value", ["NaN", "7.5", True, None, [1], {"v": 1}])
def test_value_that_is_not_a_finite_number_is_bad_value(directory: DeviceDirectory, value: object) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [{"point": "TK01_LT", "value": value}]})
    assert reasons(verdict) == [("bad_value", 0)]
    assert len(verdict.readings) == 0


def test_missing_value_is_bad_value(directory: DeviceDirectory) -> None:
    assert reasons(telemetry(directory, {"v": 1, "readings": [{"point": "TK01_LT"}]})) == [("bad_value", 0)]


@pytest.mark.parametrize("raw", [b'{"v":1,"readings":[{"point":"TK01_LT","value":NaN}]}',
                                 b'{"v":1,"readings":[{"point":"TK01_LT","value":Infinity}]}',
                                 b'{"v":1,"readings":[{"point":"TK01_LT","value":1e400}]}'])
def test_non_json_number_tokens_make_the_message_bad_json(directory: DeviceDirectory, raw: bytes) -> None:
    verdict = telemetry(directory, None, raw=raw)
    assert reasons(verdict) == [("bad_json", None)]
    assert verdict.refused_whole


def test_unknown_quality_is_bad_value(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [{"point": "TK01_LT", "value": 1, "q": "meh"},
                                                         {"point": "TK01_TT", "value": 1, "q": "bad"}]})
    assert reasons(verdict) == [("bad_value", 0)]
    assert verdict.readings.q == [Quality.BAD]


def test_unknown_point_and_point_of_another_device_are_unknown_point(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [
        {"point": "NOPE", "value": 1},
        {"point": "TK02_LT", "value": 1},     # registered, but to RTU02
        {"point": "FAC1_Z07", "value": 1},    # a fire detector of FAC1: events only
        {"value": 1},
        {"point": "TK01_LT", "value": 1}]})
    assert reasons(verdict) == [("unknown_point", 0), ("unknown_point", 1), ("unknown_point", 2),
                                ("unknown_point", 3)]
    assert verdict.readings.points == ["TK01_LT"]


def test_fire_detector_reported_as_telemetry_on_its_own_device_is_refused(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "readings": [{"point": "FAC1_Z07", "value": 1}]}, device="FAC1")
    assert reasons(verdict) == [("unknown_point", 0)]
    assert "events only" in verdict.refusals[0].detail


def test_mixed_good_and_bad_readings_keep_the_good_ones(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "ts": RECV, "seq": 3, "readings": [
        {"point": "TK01_LT", "value": 1.0}, {"point": "X", "value": 2.0}, {"point": "TK01_TT", "value": "hot"},
        {"point": "TK01_TT", "value": 3.0, "ts": RECV + 3_600_000}, 42, {"point": "TK01_TT", "value": 4.0}]})
    assert reasons(verdict) == [("unknown_point", 1), ("bad_value", 2), ("bad_ts", 3), ("bad_shape", 4)]
    assert verdict.readings.values == [1.0, 4.0]
    assert not verdict.refused_whole


@pytest.mark.parametrize(("body", "reason"), [
    ({"readings": []}, "bad_version"),
    ({"v": 2, "readings": []}, "bad_version"),
    ({"v": "1", "readings": []}, "bad_version"),
    ({"v": True, "readings": []}, "bad_version"),
    ({"v": 1}, "bad_shape"),
    ({"v": 1, "readings": {"point": "TK01_LT"}}, "bad_shape"),
    ({"v": 1, "readings": [{"point": "TK01_LT", "value": 1}] * (MAX_READINGS + 1)}, "bad_shape"),
    ({"v": 1, "seq": -1, "readings": []}, "bad_shape"),
    ({"v": 1, "seq": "3", "readings": []}, "bad_shape"),
    ([1, 2], "bad_shape"),
])
def test_whole_message_refusals(directory: DeviceDirectory, body: object, reason: str) -> None:
    verdict = telemetry(directory, body)
    assert reasons(verdict) == [(reason, None)]
    assert len(verdict.readings) == 0


@pytest.mark.parametrize("raw", [b"", b"not json", b'{"v":1,', b"\xff\xfe{}", b'{"v":1,"readings":[1,]}'])
def test_not_json_is_bad_json(directory: DeviceDirectory, raw: bytes) -> None:
    assert reasons(telemetry(directory, None, raw=raw)) == [("bad_json", None)]


def test_too_large_message(directory: DeviceDirectory) -> None:
    raw = b'{"v":1,"readings":[],"pad":"' + b"x" * MAX_BYTES + b'"}'
    assert reasons(telemetry(directory, None, raw=raw)) == [("too_large", None)]
    exactly = b'{"v":1,"readings":[],"p":"' + b"x" * (MAX_BYTES - 28) + b'"}'
    assert len(exactly) == MAX_BYTES
    assert reasons(telemetry(directory, None, raw=exactly)) == []


def test_unknown_fields_are_ignored(directory: DeviceDirectory) -> None:
    verdict = telemetry(directory, {"v": 1, "vendor": {"x": 1}, "readings": [
        {"point": "TK01_LT", "value": 1, "unit": "m", "extra": [1]}]})
    assert verdict.refusals == [] and verdict.readings.points == ["TK01_LT"]


def test_topic_and_registry_disagree(directory: DeviceDirectory) -> None:
    body = orjson.dumps({"v": 1, "readings": [{"point": "TK01_LT", "value": 1}]})
    unknown_device = parse_message(Kind.TELEMETRY, E, "RTU99", body, RECV, directory, "en")
    unknown_enterprise = parse_message(Kind.TELEMETRY, "NOBODY", "RTU01", body, RECV, directory, "en")
    assert reasons(unknown_device) == [("unknown_device", None)]
    assert reasons(unknown_enterprise) == [("unknown_device", None)]
    assert "NOBODY" in unknown_enterprise.refusals[0].detail


def test_detail_is_chinese_by_default(directory: DeviceDirectory) -> None:
    verdict = parse_message(Kind.TELEMETRY, E, "RTU01", b'{"v":1,"readings":[{"point":"X","value":1}]}',
                            RECV, directory)
    assert "不在本设备的登记清单中" in verdict.refusals[0].detail


def event(directory: DeviceDirectory, body: dict, device: str = "FAC1") -> Verdict:
    return parse_message(Kind.EVENT, E, device, orjson.dumps(body), RECV, directory, "en")


def test_event_accepted_with_both_timestamp_forms(directory: DeviceDirectory) -> None:
    first = event(directory, {"v": 1, "ts": RECV - 100, "point": "FAC1_Z07", "event": "fire", "text": "烟感"})
    second = event(directory, {"v": 1, "ts": "2025-11-29T08:40:00.123+08:00", "point": "FAC1_Z07", "event": "reset"})
    assert first.refusals == [] and second.refusals == []
    assert first.event is not None and second.event is not None
    assert (first.event["event"], first.event["ts"], first.event["text"]) == ("fire", RECV - 100, "烟感")
    assert first.event["ts_src"] == TsSource.MESSAGE
    assert second.event["ts"] == 1_764_376_800_123 and second.event["text"] == ""


@pytest.mark.parametrize(("body", "reason"), [
    ({"v": 1, "point": "FAC1_Z07", "event": "smoke"}, "bad_event"),
    ({"v": 1, "point": "FAC1_Z07"}, "bad_event"),
    ({"v": 1, "point": "TK01_LT", "event": "fire"}, "unknown_point"),  # another device's point
    ({"v": 1, "point": "Z99", "event": "fire"}, "unknown_point"),
    ({"v": 1, "event": "fire"}, "bad_shape"),
    ({"v": 1, "point": "FAC1_Z07", "event": "fire", "text": 5}, "bad_shape"),
    ({"v": 1, "point": "FAC1_Z07", "event": "fire", "ts": RECV + 600_000}, "bad_ts"),
    ({"v": 1, "point": "FAC1_Z07", "event": "fire", "ts": "soon"}, "bad_ts"),
    ({"v": 3, "point": "FAC1_Z07", "event": "fire"}, "bad_version"),
])
def test_event_refusals(directory: DeviceDirectory, body: dict, reason: str) -> None:
    verdict = event(directory, body)
    assert reasons(verdict) == [(reason, None)] and verdict.event is None


def test_event_without_ts_takes_receive_time(directory: DeviceDirectory) -> None:
    verdict = event(directory, {"v": 1, "point": "FAC1_Z07", "event": "fault"})
    assert verdict.event is not None
    assert (verdict.event["ts"], verdict.event["ts_src"]) == (RECV, TsSource.PLATFORM)


def status(directory: DeviceDirectory, raw: bytes) -> Verdict:
    return parse_message(Kind.STATUS, E, "RTU01", raw, RECV, directory, "en")


def test_status_and_will(directory: DeviceDirectory) -> None:
    online = status(directory, orjson.dumps({"v": 1, "online": True, "ts": RECV - 10}))
    will = status(directory, b'{"v": 1, "online": false}')
    assert online.status is not None and will.status is not None
    assert (online.status["online"], online.status["ts"], online.status["ts_src"]) == (True, RECV - 10, TsSource.MESSAGE)
    assert (will.status["online"], will.status["ts"], will.status["ts_src"]) == (False, RECV, TsSource.PLATFORM)


@pytest.mark.parametrize(("raw", "reason"), [(b'{"v":1,"online":"yes"}', "bad_shape"), (b'{"v":1}', "bad_shape"),
                                             (b'{"online":true}', "bad_version"),
                                             (b'{"v":1,"online":true,"ts":"x"}', "bad_ts")])
def test_status_refusals(directory: DeviceDirectory, raw: bytes, reason: str) -> None:
    assert reasons(status(directory, raw)) == [(reason, None)]
