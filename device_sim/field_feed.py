"""A field county (``device_sim.field``) as the platform receives it: wire records in arrival order.

:func:`feed` samples every point with its field noise (``device_sim.field_signals``), applies the
conditions (values, dead channels, dropped connections, skewed clocks, buffered uploads) and
yields, window by window of arrival time, the records ingest would put on Kafka: one
``ReadingBatch`` per device per window (``recv_ms`` = when its last message arrived, readings
stamped with device time), and the events and statuses that arrived in it. The run is generated a
chunk (a day) at a time with numpy, so a month of a county fits in memory.

Arrival: a message arrives 0.2 s after it is sent; a device whose uplink is down (a county outage,
an enterprise's backfill) buffers and, from the time it is back, uploads the backlog at 60× the
pace it was recorded, live messages queued behind it (so arrival order is sending order).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field

import numpy as np

from hazmon.registry.loader import PointEntry
from hazmon.registry.models import PointType, SiteKind
from hazmon.wire import DeviceStatus, Event, ReadingBatch, TsSource

from device_sim import hydrology
from device_sim.field import (BACKFILL_LATE_S, DAY_S, LEAK_FALL_S, LEAK_HOLD_S, LEAK_OTHERS, LEAK_RISE_S,
                              UPLOAD_SPEEDUP, Condition, FieldCounty, telemetry_devices)
from device_sim.field_signals import FIELD_NOISE, FieldSignal
from device_sim.signals import SENSOR_PROFILES
from device_sim.stream import rng_for

LATENCY_S = 0.2
OUTAGE_RESUME_SPREAD_S = 20.0       # devices come back over this long after an outage, in turn
NEAR_FLOOD_M = 0.2


@dataclass(frozen=True)
class Step:
    """What arrived in one window of platform time, ending at ``now_ms``."""

    now_ms: int
    readings: list[ReadingBatch]
    events: list[Event]
    statuses: list[DeviceStatus]


@dataclass
class _Device:
    enterprise: str
    device: str
    tick_s: float
    entries: list[PointEntry]
    skew_ms: int
    backlogs: list[tuple[float, float]] = field(default_factory=list)   # (uplink lost, uplink back), run seconds
    drops: list[tuple[float, float]] = field(default_factory=list)      # connection lost: nothing sent

    def arrival_s(self, send_s: np.ndarray) -> np.ndarray:
        arrival = send_s + LATENCY_S
        for lost, back in self.backlogs:
            queued = back + (send_s - lost) / UPLOAD_SPEEDUP
            arrival = np.where(send_s >= lost, np.maximum(arrival, queued), arrival)
        return arrival


class _Feed:
    def __init__(self, county: FieldCounty) -> None:
        self.county = county
        registry = county.registry
        self.t0_s = county.start_ms / 1000.0
        ponds = {(e, s.id): hydrology.pond_state(rng_for(county.seed, e, s.id), self.t0_s, county.duration_s, [])
                 for e, ent in registry.enterprises.items() for s in ent.sites if s.kind is SiteKind.TAILINGS_POND}
        self.signals: dict[tuple[str, str], FieldSignal] = {}
        self.devices: list[_Device] = []
        for enterprise in registry.enterprises:
            for device in telemetry_devices(registry, enterprise):
                entries = [e for e in registry.devices(enterprise)[device]
                           if e.point.type is not PointType.FIRE_DETECTOR and e.point.enabled]
                for e in entries:
                    self.signals[(enterprise, e.id)] = FieldSignal(e, county.seed, self.t0_s, county.duration_s,
                                                                   ponds.get((enterprise, e.site.id)))
                skew = county.skews_s.get((enterprise, device), 0.0)
                self.devices.append(_Device(enterprise, device, min(e.point.period_s for e in entries), entries,
                                            int(round(skew * 1000))))
        self.names = np.array([e.id for d in self.devices for e in d.entries], dtype=object)
        self.offsets = np.cumsum([0] + [len(d.entries) for d in self.devices])
        self.by_point: dict[tuple[str, str], list[Condition]] = {}
        self.dead: dict[tuple[str, str], list[tuple[float, float]]] = {}
        self.others: list[tuple[float, Event | DeviceStatus]] = []   # (arrival s, record)
        self._conditions()

    def _conditions(self) -> None:
        county, registry = self.county, self.county.registry
        by_device = {(d.enterprise, d.device): d for d in self.devices}
        for i, d in enumerate(self.devices):
            for start, end in county.outages:
                d.backlogs.append((start, end + OUTAGE_RESUME_SPREAD_S * (i % 10) / 10))
            self.others.append((0.0, self._status(d.enterprise, d.device, True, 0.0)))
        for c in county.conditions:
            match c.kind:
                case "beach_step" | "displacement_trend" | "gas_pinned" | "gas_leak":
                    for point in c.points:
                        self.by_point.setdefault((c.enterprise, point), []).append(c)
                case "dead_channel":
                    self.dead.setdefault((c.enterprise, c.points[0]), []).append((c.start_s, c.end_s))
                case "device_offline":
                    assert c.device is not None
                    by_device[(c.enterprise, c.device)].drops.append((c.start_s, c.end_s))
                    self.others += [(c.start_s, self._status(c.enterprise, c.device, False, c.start_s)),
                                    (c.end_s, self._status(c.enterprise, c.device, True, c.end_s))]
                case "fire":
                    entry = registry.point(c.enterprise, c.points[0])
                    assert entry is not None
                    self.others += [(t + LATENCY_S, self._event(entry, name, t)) for t, name in ((c.start_s, "fire"), (c.end_s, "reset"))]
                case "backfill":
                    for device in telemetry_devices(registry, c.enterprise):
                        late = BACKFILL_LATE_S if device == c.device else 0.0
                        by_device[(c.enterprise, device)].backlogs.append((c.start_s, c.end_s + late))
        self.others.sort(key=lambda item: item[0])

    def _ms(self, run_s: float) -> int:
        return self.county.start_ms + int(round(run_s * 1000))

    def _status(self, enterprise: str, device: str, online: bool, at_s: float) -> DeviceStatus:
        return {"v": 1, "enterprise": enterprise, "device": device, "online": online, "ts": self._ms(at_s),
                "recv_ms": self._ms(at_s)}

    def _event(self, entry: PointEntry, name: str, at_s: float) -> Event:
        return {"v": 1, "enterprise": entry.enterprise, "device": entry.point.device, "point": entry.id,
                "event": name, "ts": self._ms(at_s), "ts_src": int(TsSource.READING),  # type: ignore[typeddict-item]
                "text": entry.point.name or entry.id, "recv_ms": self._ms(at_s + LATENCY_S)}

    def values(self, entry: PointEntry, t_s: np.ndarray, chunk: int) -> np.ndarray:
        """The point's readings at run seconds ``t_s``: field signal, then the conditions on it."""
        key = (entry.enterprise, entry.id)
        value = self.signals[key].values(self.t0_s + t_s, chunk)
        if key in self.county.water_near_flood and entry.site.design is not None:
            ripple = rng_for(self.county.seed, entry.enterprise, entry.id, f"ripple-{chunk}")
            value = entry.site.design.flood_level - NEAR_FLOOD_M + ripple.normal(0.0, FIELD_NOISE[entry.point.type].sigma, len(t_s))
        for c in self.by_point.get(key, []):
            value = self._condition(c, entry, t_s, value, chunk)
        resolution = SENSOR_PROFILES[entry.point.type].resolution
        return np.round(value / resolution) * resolution

    def _condition(self, c: Condition, entry: PointEntry, t_s: np.ndarray, value: np.ndarray, chunk: int) -> np.ndarray:
        inside = (t_s >= c.start_s) & (t_s < c.end_s)
        assert c.value is not None
        match c.kind:
            case "beach_step":
                noise = rng_for(self.county.seed, entry.enterprise, entry.id, f"step-{chunk}")
                return np.where(inside, c.value + noise.normal(0.0, FIELD_NOISE[entry.point.type].sigma, len(t_s)), value)
            case "displacement_trend":
                return value + c.value / 3600.0 * np.clip(t_s - c.start_s, 0.0, c.end_s - c.start_s)
            case "gas_pinned":
                return np.where(inside, c.value, value)
            case "gas_leak":
                since = t_s - c.start_s
                fall = LEAK_RISE_S + LEAK_HOLD_S
                shape = np.clip(np.minimum(since / LEAK_RISE_S, (fall + LEAK_FALL_S - since) / LEAK_FALL_S), 0.0, 1.0)
                share = 1.0 if entry.id in c.points[:2] else LEAK_OTHERS
                return value + share * c.value * shape
        raise ValueError(f"not a value condition: {c.kind}")

    def chunk(self, index: int, start_s: float, end_s: float) -> tuple[np.ndarray, ...]:
        """(device, point, ts ms, value, arrival ms) of every reading sent in [start_s, end_s)."""
        parts: list[tuple[np.ndarray, ...]] = []
        for di, d in enumerate(self.devices):
            for pi, entry in enumerate(d.entries):
                period = entry.point.period_s
                t = np.arange(np.ceil(start_s / period) * period, end_s, period)
                for lost, back in self.dead.get((d.enterprise, entry.id), []):
                    t = t[(t < lost) | (t >= back)]
                send = np.ceil(t / d.tick_s - 1e-9) * d.tick_s
                for lost, back in d.drops:
                    keep = (send < lost) | (send >= back)
                    t, send = t[keep], send[keep]
                if not len(t):
                    continue
                parts.append((np.full(len(t), di), np.full(len(t), self.offsets[di] + pi),
                              self.county.start_ms + np.round(t * 1000).astype(np.int64) + d.skew_ms,
                              self.values(entry, t, index), np.round(d.arrival_s(send) * 1000).astype(np.int64) + self.county.start_ms))
        if not parts:
            return tuple(np.empty(0, dtype=np.int64) for _ in range(5))
        return tuple(np.concatenate(column) for column in zip(*parts))

    def steps(self, batch_s: float) -> Iterator[Step]:
        batch_ms = int(round(batch_s * 1000))
        chunk_s = max(batch_s, DAY_S // batch_s * batch_s)
        chunks = int(np.ceil(self.county.duration_s / chunk_s))
        others = [(int(round(at_s * 1000)) // batch_ms, record) for at_s, record in self.others]
        carry: tuple[np.ndarray, ...] | None = None
        for index in range(chunks):
            columns = self.chunk(index, index * chunk_s, min((index + 1) * chunk_s, self.county.duration_s))
            if carry is not None:
                columns = tuple(np.concatenate(pair) for pair in zip(carry, columns))
            window = (columns[4] - self.county.start_ms) // batch_ms
            # a window before the next chunk's first sending time is complete (arrival ≥ sending)
            horizon = int((index + 1) * chunk_s * 1000) // batch_ms if index < chunks - 1 else np.iinfo(np.int64).max
            done = window < horizon
            carry = tuple(column[~done] for column in columns)
            dev, point, ts, value, arrival = (column[done] for column in columns)
            window = window[done]
            order = np.lexsort((ts, dev, window))
            dev, point, ts, value, arrival, window = (c[order] for c in (dev, point, ts, value, arrival, window))
            starts = np.flatnonzero(np.diff(window, prepend=-1) | np.diff(dev, prepend=-1))
            bounds = np.append(starts, len(window)).tolist()
            group_windows = window[starts].tolist()
            due = [item for item in others if item[0] < horizon]
            others = others[len(due):]
            group, o = 0, 0
            for w in sorted(set(group_windows) | {item[0] for item in due}):
                readings: list[ReadingBatch] = []
                while group < len(group_windows) and group_windows[group] == w:
                    lo, hi = bounds[group], bounds[group + 1]
                    d = self.devices[int(dev[lo])]
                    readings.append({"v": 1, "enterprise": d.enterprise, "device": d.device,
                                     "recv_ms": int(arrival[lo:hi].max()), "points": self.names[point[lo:hi]].tolist(),
                                     "ts": ts[lo:hi].tolist(), "values": value[lo:hi].tolist(),
                                     "q": [0] * (hi - lo), "ts_src": [int(TsSource.READING)] * (hi - lo)})
                    group += 1
                events: list[Event] = []
                statuses: list[DeviceStatus] = []
                while o < len(due) and due[o][0] == w:
                    record = due[o][1]
                    if "event" in record:
                        events.append(record)  # type: ignore[arg-type]
                    else:
                        statuses.append(record)  # type: ignore[arg-type]
                    o += 1
                yield Step(self.county.start_ms + (w + 1) * batch_ms, readings, events, statuses)


def feed(county: FieldCounty, batch_s: float = 5.0) -> Iterator[Step]:
    """The county's records, window by window of ``batch_s`` of arrival time (empty windows left out)."""
    return _Feed(county).steps(batch_s)
