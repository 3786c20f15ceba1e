"""A scenario turned into what its devices send, deterministically, with what the platform must do.

:func:`generate` samples every point of the scenario's enterprises, applies the injections and
groups the readings into device messages as gateways batch them (one message per device per
reporting tick, with a per-device ``seq``). Each :class:`DeviceMessage` says when it is sent and
what the platform is expected to do with it (``refusal``). :meth:`ScenarioRun.wire_records` gives
the records ingest puts on Kafka for the accepted ones, so rule-engine tests need no MQTT.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass, field, replace
from typing import Literal

import numpy as np
import orjson

from hazmon import topics
from hazmon.registry import Registry
from hazmon.registry.loader import PointEntry
from hazmon.registry.models import PointType, SiteKind
from hazmon.wire import DeviceStatus, Event, ReadingBatch, TsSource

from device_sim import hydrology
from device_sim.injections import apply_injection
from device_sim.scenario import (DEVICE_INJECTIONS, VALUE_INJECTIONS, ClockSkew, ControllerEvent, DeviceInjection,
                                 Duplicate, Fire, Flood, ForeignTopic, Malformed, Offline, OutOfOrder, Scenario)
from device_sim.signals import signal

FUTURE_LIMIT_S = 300.0   # §6: a reading more than 5 minutes in the future is refused (bad_ts)
MALFORMED_PAYLOADS: tuple[tuple[bytes, str], ...] = (
    (b'{"v": 1, "readings": [', "bad_json"),
    (b'{"v": 2, "readings": []}', "bad_version"),
    (b'{"v": 1, "readings": {"point": "x"}}', "bad_shape"),
)
MessageKind = Literal["telemetry", "event", "status", "drop"]
QUALITY_NAMES = {1: "uncertain", 2: "bad"}
WILL_PAYLOAD = b'{"v":1,"online":false}'   # §5: every device's MQTT will


@dataclass(frozen=True, slots=True)
class Reading:
    point: str
    ts_ms: int
    value: float
    q: int = 0   # hazmon.wire.Quality


@dataclass(frozen=True)
class DeviceMessage:
    """One thing a device does at scenario second ``at_s``: publish a message, or drop its connection.

    ``kind`` ``status`` is the retained online message a device publishes when it (re)connects;
    ``drop`` is an abrupt loss of the connection, after which the broker publishes the device's will.
    ``refusal`` is what the platform must answer (a §6 reason, ``duplicate``, or ``acl`` when the
    broker refuses the topic); None when the message is accepted.
    """

    at_s: float
    at_ms: int
    enterprise: str
    device: str
    kind: MessageKind
    seq: int | None = None
    readings: tuple[Reading, ...] = ()
    event: tuple[str, str, str] | None = None   # (point, event, text)
    raw: bytes | None = None
    topic_enterprise: str | None = None
    refusal: str | None = None

    @property
    def topic(self) -> str:
        kind = "status" if self.kind == "drop" else self.kind
        return f"hazmon/v1/{self.topic_enterprise or self.enterprise}/{self.device}/{kind}"

    def payload(self) -> bytes:
        """The MQTT payload (data standard §3, §4, §5)."""
        if self.raw is not None:
            return self.raw
        if self.kind == "telemetry":
            readings = [{"point": r.point, "value": r.value, "ts": r.ts_ms} | ({"q": QUALITY_NAMES[r.q]} if r.q else {})
                        for r in self.readings]
            return orjson.dumps({"v": 1, "ts": self.at_ms, "seq": self.seq, "readings": readings})
        if self.kind == "event" and self.event is not None:
            point, name, text = self.event
            return orjson.dumps({"v": 1, "ts": self.at_ms, "point": point, "event": name, "text": text})
        if self.kind == "status":
            return orjson.dumps({"v": 1, "online": True, "ts": self.at_ms})
        return WILL_PAYLOAD   # a drop: what the broker publishes for the device


@dataclass
class ScenarioRun:
    """A generated scenario: its messages in sending order and the run's start (epoch ms)."""

    scenario: Scenario
    start_ms: int
    messages: list[DeviceMessage] = field(default_factory=list)

    def wire_records(self) -> list[tuple[str, ReadingBatch | Event | DeviceStatus]]:
        """(Kafka topic, record) for every accepted message, in sending order, as ingest writes them."""
        records: list[tuple[str, ReadingBatch | Event | DeviceStatus]] = []
        for message in self.messages:
            if message.refusal is not None:
                continue
            if message.kind == "telemetry":
                records.append((topics.READINGS, _batch(message)))
            elif message.kind == "event" and message.event is not None:
                point, name, text = message.event
                records.append((topics.EVENTS, {"v": 1, "enterprise": message.enterprise, "device": message.device,
                                                "point": point, "event": name, "ts": message.at_ms,  # type: ignore[typeddict-item]
                                                "ts_src": int(TsSource.READING), "text": text, "recv_ms": message.at_ms}))
            else:
                records.append((topics.DEVICE_STATUS, {"v": 1, "enterprise": message.enterprise, "device": message.device,
                                                       "online": message.kind == "status", "ts": message.at_ms,
                                                       "recv_ms": message.at_ms}))
        return records

    def readings(self) -> list[ReadingBatch]:
        """Only the reading batches of :meth:`wire_records`."""
        return [record for topic, record in self.wire_records() if topic == topics.READINGS]  # type: ignore[misc]

    def devices(self) -> dict[tuple[str, str], list[DeviceMessage]]:
        """(enterprise, device) → its messages in sending order, for the MQTT devices."""
        result: dict[tuple[str, str], list[DeviceMessage]] = {}
        for message in self.messages:
            result.setdefault((message.enterprise, message.device), []).append(message)
        return result


def _batch(message: DeviceMessage) -> ReadingBatch:
    return {"v": 1, "enterprise": message.enterprise, "device": message.device, "recv_ms": message.at_ms,
            "points": [r.point for r in message.readings], "ts": [r.ts_ms for r in message.readings],
            "values": [r.value for r in message.readings], "q": [r.q for r in message.readings],
            "ts_src": [int(TsSource.READING)] * len(message.readings)}


def rng_for(seed: int, *names: str) -> np.random.Generator:
    """A random stream of its own for each (seed, enterprise, point or site): adding a point changes no other."""
    return np.random.default_rng([seed, *(zlib.crc32(name.encode()) for name in names)])


class _Generator:
    """Builds one scenario's messages; one instance per :func:`generate` call."""

    def __init__(self, scenario: Scenario, registry: Registry, start_ms: int, enterprises: list[str]) -> None:
        self.scenario, self.registry, self.start_ms, self.enterprises = scenario, registry, start_ms, enterprises
        self.messages: list[DeviceMessage] = []
        self._check_references()

    def _check_references(self) -> None:
        for item in (*self.scenario.injections, *self.scenario.expect, *self.scenario.forbid):
            point = getattr(item, "point", None)
            vote_group = getattr(item, "rule", None) == "vote"   # a vote alarm's point is its group (§8)
            known = point is None or (any(e.enterprise == item.enterprise and e.point.group == point for e in self.registry)
                                       if vote_group else self.registry.point(item.enterprise, point) is not None)
            if not known:
                raise ValueError(f"scenario {self.scenario.name}: point {item.enterprise}/{point} is not in the registry")
            device = getattr(item, "device", None)
            if device is not None and device not in self.registry.devices(item.enterprise):
                raise ValueError(f"scenario {self.scenario.name}: device {item.enterprise}/{device} is not in the registry")

    def at_ms(self, at_s: float) -> int:
        return self.start_ms + int(round(at_s * 1000))

    def ponds(self, enterprise: str) -> dict[str, hydrology.PondState]:
        result = {}
        for site in self.registry.enterprises[enterprise].sites:
            if site.kind is SiteKind.TAILINGS_POND:
                floods = [hydrology.Flood(i.at_s, i.duration_s, i.mm_per_h) for i in self.scenario.injections
                          if isinstance(i, Flood) and i.enterprise == enterprise and i.site == site.id]
                result[site.id] = hydrology.pond_state(rng_for(self.scenario.seed, enterprise, site.id),
                                                       self.start_ms / 1000, self.scenario.duration_s, floods)
        return result

    def point_readings(self, entry: PointEntry, pond: hydrology.PondState | None) -> list[tuple[float, Reading]]:
        """(scenario second, reading) of one point over the run."""
        t_s = np.arange(0.0, self.scenario.duration_s, entry.point.period_s)
        values = signal(entry, self.start_ms / 1000 + t_s, rng_for(self.scenario.seed, entry.enterprise, entry.id), pond)
        quality = np.zeros(len(t_s), dtype=np.int64)
        for injection in self.scenario.injections:
            if isinstance(injection, VALUE_INJECTIONS) and (injection.enterprise, injection.point) == (entry.enterprise, entry.id):
                values, quality = apply_injection(injection, entry, t_s, values, quality)
        ts_ms = self.start_ms + np.round(t_s * 1000).astype(np.int64)
        return [(float(t), Reading(entry.id, int(ms), round(float(v), 6), int(q)))
                for t, ms, v, q in zip(t_s, ts_ms, values, quality)]

    def device_messages(self, enterprise: str, device: str, entries: list[PointEntry],
                        ponds: dict[str, hydrology.PondState]) -> list[DeviceMessage]:
        """The device's connect and its telemetry: one message per reporting tick with every reading due."""
        measured = [e for e in entries if e.point.type is not PointType.FIRE_DETECTOR and e.point.enabled]
        messages = [DeviceMessage(0.0, self.at_ms(0.0), enterprise, device, "status")]
        if not measured:
            return messages
        tick = min(e.point.period_s for e in measured)
        by_tick: dict[int, list[Reading]] = {}
        for entry in measured:
            for t, reading in self.point_readings(entry, ponds.get(entry.site.id)):
                by_tick.setdefault(int(np.ceil(t / tick - 1e-9)), []).append(reading)
        for seq, index in enumerate(sorted(by_tick)):
            at_s = index * tick
            messages.append(DeviceMessage(at_s, self.at_ms(at_s), enterprise, device, "telemetry", seq,
                                          tuple(by_tick[index])))
        return messages

    def build(self) -> list[DeviceMessage]:
        for enterprise in self.enterprises:
            ponds = self.ponds(enterprise)
            for device, entries in sorted(self.registry.devices(enterprise).items()):
                messages = self.device_messages(enterprise, device, entries, ponds)
                for injection in self.scenario.injections:
                    if isinstance(injection, DEVICE_INJECTIONS) and (injection.enterprise, injection.device) == (enterprise, device):
                        messages = self.disturb(injection, messages)
                self.messages.extend(messages)
        self.messages.extend(self.controller_events())
        order = {id(m): i for i, m in enumerate(self.messages)}
        # a (re)connect comes before what the device sends at the same second
        return sorted(self.messages, key=lambda m: (m.at_s, m.kind != "status", order[id(m)]))

    def controller_events(self) -> list[DeviceMessage]:
        """§4 events of fire alarm controller zones: ``fire`` (then ``reset``) and the other events."""
        result = []
        for injection in self.scenario.injections:
            if isinstance(injection, Fire):
                events = [(injection.at_s, "fire", injection.text)]
                if injection.reset_after_s is not None:
                    events.append((injection.at_s + injection.reset_after_s, "reset", injection.text))
            elif isinstance(injection, ControllerEvent):
                events = [(injection.at_s, injection.event, injection.text)]
            else:
                continue
            device = self.registry.point(injection.enterprise, injection.point).point.device  # type: ignore[union-attr]
            result += [DeviceMessage(t, self.at_ms(t), injection.enterprise, device, "event", event=(injection.point, name, text))
                       for t, name, text in events]
        return result

    def disturb(self, injection: DeviceInjection, messages: list[DeviceMessage]) -> list[DeviceMessage]:
        """Apply a device-level injection to the device's messages."""
        match injection:
            case Offline(at_s=at, duration_s=duration):
                back, first = at + duration, messages[0]
                kept = [m for m in messages if not at <= m.at_s < back]
                return kept + [DeviceMessage(at, self.at_ms(at), first.enterprise, first.device, "drop"),
                               DeviceMessage(back, self.at_ms(back), first.enterprise, first.device, "status")]
            case ClockSkew(at_s=at, skew_s=skew, duration_s=duration):
                end = np.inf if duration is None else at + duration
                return [_skewed(m, skew) if m.kind == "telemetry" and at <= m.at_s < end else m for m in messages]
            case Duplicate(at_s=at, copies=copies):
                first = next(m for m in messages if m.kind == "telemetry" and m.at_s >= at)
                return messages + [replace(first, refusal="duplicate") for _ in range(copies)]
            case OutOfOrder(at_s=at, duration_s=duration):
                inside = [i for i, m in enumerate(messages) if m.kind == "telemetry" and at <= m.at_s < at + duration]
                times = [(messages[i].at_s, messages[i].at_ms) for i in inside]
                result = list(messages)
                for i, (at_s, at_ms) in zip(reversed(inside), times):
                    result[i] = replace(messages[i], at_s=at_s, at_ms=at_ms)
                return result
            case Malformed(at_s=at, count=count):
                device = messages[0]
                return messages + [DeviceMessage(at, self.at_ms(at), device.enterprise, device.device, "telemetry",
                                                 raw=raw, refusal=reason)
                                   for raw, reason in (MALFORMED_PAYLOADS[i % len(MALFORMED_PAYLOADS)] for i in range(count))]
            case ForeignTopic(at_s=at, as_enterprise=other):
                first = next(m for m in messages if m.kind == "telemetry" and m.at_s >= at)
                return messages + [replace(first, topic_enterprise=other, refusal="acl")]
        raise TypeError(f"not a device injection: {injection!r}")


def _skewed(message: DeviceMessage, skew_s: float) -> DeviceMessage:
    """The message as a device whose clock is ``skew_s`` off stamps it; refused when too far ahead."""
    shift = int(round(skew_s * 1000))
    readings = tuple(replace(r, ts_ms=r.ts_ms + shift) for r in message.readings)
    return replace(message, readings=readings, refusal="bad_ts" if skew_s > FUTURE_LIMIT_S else None)


def generate(scenario: Scenario, registry: Registry, start_ms: int, whole_county: bool = False) -> ScenarioRun:
    """Every message the scenario's devices send from ``start_ms`` (epoch ms), in sending order.

    With ``whole_county`` every enterprise of the registry is simulated (the others undisturbed),
    not only the scenario's. Deterministic: the same inputs give the same messages, values and seqs.
    """
    enterprises = sorted(registry.enterprises) if whole_county else scenario.enterprises
    for enterprise in scenario.enterprises:
        if enterprise not in registry.enterprises:
            raise ValueError(f"scenario {scenario.name}: enterprise {enterprise} is not in the registry")
    return ScenarioRun(scenario, start_ms, _Generator(scenario, registry, start_ms, enterprises).build())
