"""The rule state of one enterprise, and its JSON form for the Faust table changelog.

Per-point arrays (last reading time and value) follow the catalog's point order and are realigned
by point id when the registry changes; everything else is keyed by point, device or alarm key.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field, replace

import numpy as np
import orjson

from stream_rules.alarms import OpenAlarm, alarms_from_json, alarms_to_json
from stream_rules.catalog import LEVELS, Catalog


@dataclass(slots=True)
class LevelTrack:
    """Runs of one point on one side (above/below), per severity (index severity − 1), in reading time.

    ``since``: start of the current run of readings beyond the level; ``clear_since``: start of the
    current run back inside it by the deadband; ``armed``: beyond once and not yet cleared.
    """

    since: list[float | None] = field(default_factory=lambda: [None] * LEVELS)
    clear_since: list[float | None] = field(default_factory=lambda: [None] * LEVELS)
    armed: list[bool] = field(default_factory=lambda: [False] * LEVELS)

    def idle(self) -> bool:
        return not any(self.armed) and all(s is None for s in self.since)

    def break_runs(self) -> None:
        self.since = [None] * LEVELS
        self.clear_since = [None] * LEVELS


FrozenState = tuple   # ``EnterpriseState.frozen``: its fields in order, containers as tuples, arrays copied


@dataclass(slots=True)
class EnterpriseState:
    point_ids: list[str]
    last_ts: np.ndarray           # per point: newest reading time (device clock)
    last_value: np.ndarray
    last_arrival: np.ndarray      # per point: when the platform received its newest record (recv_ms)
    watermark: float = -np.inf    # newest reading time of the enterprise (device clocks)
    arrival_ms: float = -np.inf   # newest recv_ms of the enterprise's records
    silence_from: float = -np.inf  # platform time silence is judged from: first arrival, or data back after an outage
    judged_ms: float = -np.inf     # the latest receiving clock silence was judged at (never goes back)
    tracks: dict[str, LevelTrack] = field(default_factory=dict)       # "point|above" → runs
    fault_good_since: dict[str, float] = field(default_factory=dict)  # point → start of good data while faulted
    changed: dict[str, list[float]] = field(default_factory=dict)     # stuck points: point → [ts of last change, value]
    windows: dict[str, list[tuple[float, ...]]] = field(default_factory=dict)  # trend/rainfall: point → [(ts, value), …]
    noise: dict[str, list[float]] = field(default_factory=dict)       # trend: point → [mean |Δ²|, count, two last values]
    trend_since: dict[str, float] = field(default_factory=dict)       # trend: point → start of the run showing one
    calm_since: dict[str, float] = field(default_factory=dict)        # trend: point → start of no-trend run
    back_since: dict[str, float] = field(default_factory=dict)        # device → platform time its offline alarm cleared
    status_offline: dict[str, list[float]] = field(default_factory=dict)  # device → [reading time data must pass, status ts]
    alarms: dict[str, OpenAlarm] = field(default_factory=dict)
    applied: dict[str, int] = field(default_factory=dict)             # source topic → offset of the last record applied

    @classmethod
    def fresh(cls, catalog: Catalog) -> EnterpriseState:
        n = len(catalog.ids)
        return cls(list(catalog.ids), np.full(n, -np.inf), np.full(n, np.nan), np.full(n, -np.inf))

    def align(self, catalog: Catalog) -> None:
        """Re-index the per-point arrays to ``catalog`` (after a registry change); new points start unseen."""
        if self.point_ids == catalog.ids:
            return
        old = {pid: i for i, pid in enumerate(self.point_ids)}
        take = np.array([old.get(pid, -1) for pid in catalog.ids], dtype=np.int64)
        known = take >= 0
        last_ts = np.full(len(take), self.watermark if np.isfinite(self.watermark) else -np.inf)
        last_value = np.full(len(take), np.nan)
        last_arrival = np.full(len(take), self.arrival_ms if np.isfinite(self.arrival_ms) else -np.inf)
        last_ts[known] = self.last_ts[take[known]]
        last_value[known] = self.last_value[take[known]]
        last_arrival[known] = self.last_arrival[take[known]]
        self.point_ids, self.last_ts, self.last_value = list(catalog.ids), last_ts, last_value
        self.last_arrival = last_arrival

    def frozen(self) -> FrozenState:
        """The state as tuples (and copied arrays), sharing nothing the engine changes in place (it changes
        lists, tracks and alarms in place; window entries are tuples of floats and are shared); ``thawed``
        makes a state of it again. ~3 times faster than pickling the fields, and the collector stops
        tracking tuples of strings and floats at its first look, as it does window entries."""
        return (tuple(self.point_ids), self.last_ts.copy(), self.last_value.copy(), self.last_arrival.copy(),
                self.watermark, self.arrival_ms, self.silence_from, self.judged_ms,
                tuple((key, tuple(t.since), tuple(t.clear_since), tuple(t.armed)) for key, t in self.tracks.items()),
                tuple(self.fault_good_since.items()),
                tuple((point, tuple(change)) for point, change in self.changed.items()),
                tuple((point, tuple(window)) for point, window in self.windows.items()),
                tuple((point, tuple(noise)) for point, noise in self.noise.items()),
                tuple(self.trend_since.items()), tuple(self.calm_since.items()), tuple(self.back_since.items()),
                tuple((device, tuple(status)) for device, status in self.status_offline.items()),
                tuple((key, replace(alarm)) for key, alarm in self.alarms.items()), tuple(self.applied.items()))

    @classmethod
    def thawed(cls, frozen: FrozenState) -> EnterpriseState:
        """A state equal to the one ``frozen`` was taken of, sharing nothing with ``frozen`` that it changes in place."""
        (point_ids, last_ts, last_value, last_arrival, watermark, arrival_ms, silence_from, judged_ms, tracks,
         fault_good_since, changed, windows, noise, trend_since, calm_since, back_since, status_offline, alarms,
         applied) = frozen
        return cls(list(point_ids), last_ts.copy(), last_value.copy(), last_arrival.copy(),
                   watermark, arrival_ms, silence_from, judged_ms,
                   {key: LevelTrack(list(since), list(clear), list(armed)) for key, since, clear, armed in tracks},
                   dict(fault_good_since), {point: list(change) for point, change in changed},
                   {point: list(window) for point, window in windows}, {point: list(n) for point, n in noise},
                   dict(trend_since), dict(calm_since), dict(back_since),
                   {device: list(status) for device, status in status_offline},
                   {key: replace(alarm) for key, alarm in alarms}, dict(applied))

    def to_bytes(self) -> bytes:
        # orjson writes every non-finite float (unseen times and values, numpy's too) as JSON null
        data = {
            "point_ids": self.point_ids, "last_ts": self.last_ts, "last_value": self.last_value,
            "last_arrival": self.last_arrival,
            "watermark": self.watermark, "arrival_ms": self.arrival_ms, "silence_from": self.silence_from,
            "judged_ms": self.judged_ms,
            "tracks": {k: asdict(t) for k, t in self.tracks.items()},
            "fault_good_since": self.fault_good_since, "changed": self.changed, "windows": self.windows,
            "noise": self.noise, "trend_since": self.trend_since, "calm_since": self.calm_since, "back_since": self.back_since, "status_offline": self.status_offline,
            "alarms": alarms_to_json(self.alarms), "applied": self.applied,
        }
        return orjson.dumps(data, option=orjson.OPT_SERIALIZE_NUMPY)

    @classmethod
    def from_bytes(cls, raw: bytes) -> EnterpriseState:
        data = orjson.loads(raw)
        return cls(
            data["point_ids"], _array(data["last_ts"], -np.inf), _array(data["last_value"], np.nan),
            _array(data["last_arrival"], -np.inf),
            _scalar(data["watermark"]), _scalar(data["arrival_ms"]), _scalar(data["silence_from"]),
            _scalar(data.get("judged_ms")),
            {k: LevelTrack(**t) for k, t in data["tracks"].items()},
            data["fault_good_since"], data["changed"],
            {point: [tuple(entry) for entry in window] for point, window in data["windows"].items()}, data["noise"], data["trend_since"], data["calm_since"],
            data["back_since"],
            {device: [_scalar(after), ts] for device, (after, ts) in data["status_offline"].items()},
            alarms_from_json(data["alarms"]), data.get("applied", {}),
        )


def _array(values: list[float | None], missing: float) -> np.ndarray:
    return np.array([missing if v is None else v for v in values], dtype=np.float64)


def _scalar(value: float | None) -> float:
    return -np.inf if value is None else float(value)
