"""The rule book of the data standard §3–§6 as one pure function: MQTT payload in, verdict out.

No I/O and no state: ``parse_message`` tells for one message what is accepted (readings, an
event, a status) and what is refused with which reason. De-duplication by ``seq`` is stateful and
lives in ``ingest.sequence``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field

import orjson

from hazmon.settings import Settings
from hazmon.wire import EVENT_NAMES, WIRE_VERSION, DeviceStatus, Event, Quality, TsSource
from ingest.directory import DeviceDirectory
from ingest.reasons import Language, Reason, text
from ingest.timestamps import good_ms_range, parse_ts, ts_problem
from ingest.topics import Kind

MAX_BYTES = 256 * 1024
MAX_READINGS = 1000
_QUALITY = {"good": int(Quality.GOOD), "uncertain": int(Quality.UNCERTAIN), "bad": int(Quality.BAD)}
DAY_MS = 86_400_000
_READING_TS = int(TsSource.READING)


@dataclass(frozen=True, slots=True)
class ParseRules:
    """The limits of §6 that are settings: how old a timestamp may be, how long an event's text."""

    max_age_ms: int
    text_max: int

    @classmethod
    def from_settings(cls, settings: Settings) -> ParseRules:
        return cls(settings.ingest_max_age_s * 1000, settings.ingest_event_text_max)


DEFAULT_RULES = ParseRules.from_settings(Settings.model_construct())  # the settings' defaults, no environment


@dataclass(frozen=True, slots=True)
class Refusal:
    reason: Reason
    key: str                    # of its sentence in ingest.reasons
    facts: dict[str, object]    # filled into the sentence
    language: Language
    reading_index: int | None = None  # None: the whole message
    point: str | None = None

    @property
    def detail(self) -> str:
        """The operator-facing sentence, formatted when asked: a message may carry 1 000 refusals, of
        which a few are ever shown (formatting each was ~27 % of parsing such a message)."""
        return text(self.key, self.language, **self.facts)


@dataclass(slots=True)
class ReadingColumns:
    """Accepted readings, columnar as ``wire.ReadingBatch`` carries them."""

    points: list[str] = field(default_factory=list)
    ts: list[int] = field(default_factory=list)
    values: list[float] = field(default_factory=list)
    q: list[int] = field(default_factory=list)
    ts_src: list[int] = field(default_factory=list)

    def __len__(self) -> int:
        return len(self.points)


@dataclass(slots=True)
class Verdict:
    """What became of one MQTT message."""

    kind: Kind
    enterprise: str
    device: str
    recv_ms: int
    readings: ReadingColumns = field(default_factory=ReadingColumns)
    event: Event | None = None
    status: DeviceStatus | None = None
    seq: int | None = None
    refusals: list[Refusal] = field(default_factory=list)

    @property
    def refused_whole(self) -> bool:
        return any(r.reading_index is None for r in self.refusals)


class _Refused(Exception):
    def __init__(self, refusal: Refusal) -> None:
        self.refusal = refusal


def _show(value: object) -> str:
    try:
        return orjson.dumps(value).decode()
    except TypeError:
        return repr(value)


def parse_message(kind: Kind, enterprise: str, device: str, payload: bytes, recv_ms: int,
                  directory: DeviceDirectory, language: Language = "zh", rules: ParseRules = DEFAULT_RULES) -> Verdict:
    """Apply §3–§6 to one message received on ``hazmon/v1/{enterprise}/{device}/{kind}``."""
    verdict = Verdict(kind, enterprise, device, recv_ms)
    try:
        body = _decode(payload, language)
        _check_device(enterprise, device, directory, language)
        if kind is Kind.TELEMETRY:
            _telemetry(body, verdict, directory, language, rules)
        elif kind is Kind.EVENT:
            verdict.event = _event(body, verdict, directory, language, rules)
        else:
            verdict.status = _status(body, verdict, language, rules)
    except _Refused as refused:
        verdict.refusals = [refused.refusal]
        verdict.readings = ReadingColumns()
    return verdict


def _refuse(reason: Reason, key: str, language: Language, **facts: object) -> _Refused:
    return _Refused(Refusal(reason, key, facts, language))


def _decode(payload: bytes, language: Language) -> dict:
    if len(payload) > MAX_BYTES:
        raise _refuse(Reason.TOO_LARGE, "too_large", language, size=len(payload), limit=MAX_BYTES)
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise _refuse(Reason.BAD_JSON, "not_json", language, error=exc) from None
    if type(body) is not dict:
        raise _refuse(Reason.BAD_SHAPE, "not_object", language)
    version = body.get("v")
    if type(version) is not int or version != WIRE_VERSION:
        raise _refuse(Reason.BAD_VERSION, "bad_version", language, value=_show(version))
    return body


def _check_device(enterprise: str, device: str, directory: DeviceDirectory, language: Language) -> None:
    if enterprise not in directory.enterprises:
        raise _refuse(Reason.UNKNOWN_DEVICE, "unknown_enterprise", language, enterprise=enterprise)
    if (enterprise, device) not in directory.event_points:
        raise _refuse(Reason.UNKNOWN_DEVICE, "unknown_device", language, enterprise=enterprise, device=device)


def _message_ts(body: dict, recv_ms: int, rules: ParseRules) -> tuple[int | None, int, str | None]:
    """(ts, TsSource, problem text key): ts is None with a problem when the message's ts is bad."""
    raw = body.get("ts")
    if raw is None:
        return recv_ms, int(TsSource.PLATFORM), None
    ts = parse_ts(raw)
    problem = ts_problem(ts, recv_ms, rules.max_age_ms)
    return (None if problem else ts), int(TsSource.MESSAGE), problem


def _problem_text(problem: str, language: Language, rules: ParseRules) -> str:
    return text(problem, language, days=f"{rules.max_age_ms / DAY_MS:g}")


def _whole_message_ts(body: dict, recv_ms: int, language: Language, rules: ParseRules) -> tuple[int, int]:
    ts, source, problem = _message_ts(body, recv_ms, rules)
    if ts is None:
        raise _refuse(Reason.BAD_TS, "bad_message_ts", language, value=_show(body.get("ts")),
                      problem=_problem_text(problem or "", language, rules))
    return ts, source


def _telemetry(body: dict, verdict: Verdict, directory: DeviceDirectory, language: Language,
               rules: ParseRules) -> None:
    seq = body.get("seq")
    if seq is not None and (type(seq) is not int or seq < 0):
        raise _refuse(Reason.BAD_SHAPE, "bad_seq", language, value=_show(seq))
    readings = body.get("readings")
    if type(readings) is not list:
        raise _refuse(Reason.BAD_SHAPE, "readings_not_list", language)
    if len(readings) > MAX_READINGS:
        raise _refuse(Reason.BAD_SHAPE, "too_many_readings", language, count=len(readings), limit=MAX_READINGS)
    verdict.seq = seq
    msg_ts, msg_src, msg_problem = _message_ts(body, verdict.recv_ms, rules)
    device_key = (verdict.enterprise, verdict.device)
    allowed = directory.telemetry_points.get(device_key, frozenset())
    out = verdict.readings
    refusals = verdict.refusals
    recv_ms = verdict.recv_ms
    earliest, latest = good_ms_range(recv_ms, rules.max_age_ms)
    for index, reading in enumerate(readings):
        if type(reading) is not dict:
            refusals.append(Refusal(Reason.BAD_SHAPE, "reading_not_object", {"index": index}, language, index))
            continue
        point = reading.get("point")
        if type(point) is not str or point not in allowed:
            key = "events_only" if type(point) is str and directory.is_fire_detector(*device_key, point) \
                else "unknown_point"
            refusals.append(Refusal(Reason.UNKNOWN_POINT, key, {"index": index, "point": _show(point)}, language,
                                    index, point if type(point) is str else None))
            continue
        value = reading.get("value")
        if type(value) is int:
            value = float(value)
        elif type(value) is not float or not math.isfinite(value):
            refusals.append(Refusal(Reason.BAD_VALUE, "bad_value", {"index": index, "point": point, "value": _show(value)},
                                    language, index, point))
            continue
        quality = reading.get("q")
        q = 0 if quality is None else _QUALITY.get(quality) if type(quality) is str else None
        if q is None:
            refusals.append(Refusal(Reason.BAD_VALUE, "bad_quality",
                                    {"index": index, "point": point, "value": _show(quality)}, language, index, point))
            continue
        raw_ts = reading.get("ts")
        if raw_ts is None:
            ts, source, problem = msg_ts, msg_src, msg_problem
            shown = body.get("ts")
        elif type(raw_ts) is int and earliest <= raw_ts <= latest:  # most readings: nothing to parse or refuse
            ts, source, problem = raw_ts, _READING_TS, None
        else:
            ts, source, shown = parse_ts(raw_ts), _READING_TS, raw_ts
            problem = ts_problem(ts, recv_ms, rules.max_age_ms)
        if problem is not None:
            refusals.append(Refusal(Reason.BAD_TS, "bad_reading_ts",
                                    {"index": index, "point": point, "value": _show(shown),
                                     "problem": _problem_text(problem, language, rules)}, language, index, point))
            continue
        out.points.append(point)
        out.ts.append(ts)   # type: ignore[arg-type]  # no problem: a time
        out.values.append(value)
        out.q.append(q)
        out.ts_src.append(source)


def _event(body: dict, verdict: Verdict, directory: DeviceDirectory, language: Language, rules: ParseRules) -> Event:
    point = body.get("point")
    if type(point) is not str:
        raise _refuse(Reason.BAD_SHAPE, "event_missing_point", language)
    if point not in directory.event_points[(verdict.enterprise, verdict.device)]:
        raise _refuse(Reason.UNKNOWN_POINT, "event_point", language, point=point)
    name = body.get("event")
    if name not in EVENT_NAMES:
        raise _refuse(Reason.BAD_EVENT, "bad_event", language, value=_show(name), allowed=", ".join(EVENT_NAMES))
    note = body.get("text", "")
    if type(note) is not str:
        raise _refuse(Reason.BAD_SHAPE, "bad_text", language)
    ts, source = _whole_message_ts(body, verdict.recv_ms, language, rules)
    return Event(v=WIRE_VERSION, enterprise=verdict.enterprise, device=verdict.device, point=point, event=name,
                 ts=ts, ts_src=source, text=note[:rules.text_max], recv_ms=verdict.recv_ms)


def _status(body: dict, verdict: Verdict, language: Language, rules: ParseRules) -> DeviceStatus:
    online = body.get("online")
    if type(online) is not bool:
        raise _refuse(Reason.BAD_SHAPE, "bad_online", language)
    ts, source = _whole_message_ts(body, verdict.recv_ms, language, rules)
    return DeviceStatus(v=WIRE_VERSION, enterprise=verdict.enterprise, device=verdict.device, online=online,
                        ts=ts, recv_ms=verdict.recv_ms, ts_src=source)
