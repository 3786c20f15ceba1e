"""Canonical records on the Kafka topics (see ``hazmon.topics``), encoded as JSON with orjson.

Readings travel columnar, many per record, because in Python the cost per Kafka record dominates
and the rules evaluate them as numpy arrays. Times are integer milliseconds since the Unix epoch.
"""

from __future__ import annotations

import os
import socket
from enum import IntEnum
from typing import Literal, NotRequired, TypedDict

import orjson

WIRE_VERSION = 1


class Quality(IntEnum):
    GOOD = 0
    UNCERTAIN = 1
    BAD = 2


class TsSource(IntEnum):
    """Where a reading's timestamp came from (data standard §3)."""

    READING = 0   # the reading's own ts
    MESSAGE = 1   # the message's ts
    PLATFORM = 2  # neither: the time the platform received the message ("marked so")


class ReadingBatch(TypedDict):
    """Accepted readings of one device from one or more MQTT messages, in arrival order."""

    v: int
    enterprise: str
    device: str
    recv_ms: int
    points: list[str]
    ts: list[int]
    values: list[float]
    q: list[int]        # Quality
    ts_src: list[int]   # TsSource


EventName = Literal["fire", "fault", "disabled", "supervisory", "start", "feedback", "reset", "normal"]
EVENT_NAMES: tuple[str, ...] = ("fire", "fault", "disabled", "supervisory", "start", "feedback", "reset", "normal")


class Event(TypedDict):
    v: int
    enterprise: str
    device: str
    point: str
    event: EventName
    ts: int
    ts_src: int
    text: str
    recv_ms: int


class DeviceStatus(TypedDict):
    v: int
    enterprise: str
    device: str
    online: bool
    ts: int
    recv_ms: int
    ts_src: NotRequired[int]   # TsSource: PLATFORM for a will or a status without ts


PLATFORM_ENTERPRISE = "platform"   # §9: the enterprise of the platform's own alarms (rule ``platform``)
Rule = Literal["limit", "vote", "rainfall", "trend", "fault", "offline", "fire", "rollup", "platform"]
RULES: tuple[str, ...] = ("limit", "vote", "rainfall", "trend", "fault", "offline", "fire", "rollup", "platform")
Transition = Literal["raised", "confirmed", "escalated", "deescalated", "cleared", "recorded"]


class AlarmTransition(TypedDict):
    """One change of one alarm, as the rule engine emits it; ``id`` is stable for the alarm's life."""

    v: int
    id: str
    transition: Transition
    enterprise: str
    site: str
    device: str
    point: str
    rule: Rule
    level: str | None
    severity: int
    value: float | None
    limit: float | None
    started_at: int
    reading_ts: int
    emitted_ms: int
    message: str
    message_en: str
    extra: NotRequired[dict[str, float | str | None]]


ActionKind = Literal["ack", "close", "escalate", "suppress"]


class AlarmAction(TypedDict):
    """An action on an alarm (``topics.ALARM_ACTIONS``, keyed by enterprise): an officer's 签收, close or
    suppression through the API or the desk, the upper platform's through the uplink, alerting's own
    escalation. ``by`` names who acted (``duty/王值班``, ``prefecture/<name>``...)."""

    v: int
    action_id: str
    action: ActionKind
    enterprise: str
    ts: int
    by: str
    alarm: NotRequired[str]          # ack, close, escalate
    comment: NotRequired[str]        # ack
    note: NotRequired[str]           # close
    cause: NotRequired[str]          # close: one of alerting's CLOSE_CAUSES (free text in records made before them)
    measures: NotRequired[str]       # close (optional detail of the note)
    tier: NotRequired[int]           # escalate: 1 county, 2 prefecture
    point: NotRequired[str]          # suppress
    reason: NotRequired[str]         # suppress
    expires_at: NotRequired[int]     # suppress


class AlarmChange(TypedDict):
    """One change of one alarm as the API shows it after the change (``topics.ALARM_CHANGES``, keyed by
    alarm id); ``version`` is the alarm's revision: it grows with each change, and a record may come
    again (a restart re-publishes the changes its ledger had not recorded), never an older one after a newer."""

    v: int
    version: int
    change: str      # the event: a transition name, acknowledged, closed, escalated_tier1|2
    ts: int          # the change's own time
    by: str | None   # who acted, for an officer's or the escalator's change
    alarm: dict      # alerting's Alarm.to_json: §9's fields and the lifecycle


Component = Literal["ingest", "rules", "alerting", "recorder"]


class PartitionLag(TypedDict):
    topic: str
    partition: int
    lag: int     # records between the consumer's position and the partition's end


class Latency(TypedDict):
    """One period's batch latencies in ms (each batch's worst: its oldest record's), as ``latency_of`` sums them up."""

    batches: int
    p50_ms: float
    p99_ms: float
    max_ms: float


class PipelineMetrics(TypedDict):
    """One process's pipeline health over one period (``topics.PIPELINE_METRICS``, keyed by ``component``;
    docs/dashboards.md, "Pipeline metrics"). Measured per batch, published once per period."""

    v: int
    component: Component
    instance: str                     # which process of the component (``instance_name``)
    ts: int                           # the period's end
    lags: list[PartitionLag]          # each input partition it owns (ingest: none, its input is MQTT)
    latency: NotRequired[Latency]     # absent when no batch carried a receive time in the period
    gauges: NotRequired[dict[str, float]]   # component's own levels (ingest ``in_flight``, alerting ``influx_queue``)


class SeriesLines(TypedDict):
    """InfluxDB lines a stage computed itself (``topics.SERIES``, keyed by ``component``): alerting's alarm
    records, risk colours and its own pipeline metrics. The recorder writes them, each into its retention
    policy (``hazmon.series.policy_of``). Line protocol built with ``hazmon.series``, times in ms; each
    line's measurement, tags and time are its point's key, so a record written twice overwrites itself."""

    v: int
    component: Component
    lines: list[str]


def instance_name() -> str:
    """The ``instance`` of this process in its ``PipelineMetrics``: host and pid."""
    return f"{socket.gethostname()}:{os.getpid()}"


def latency_of(samples_ms: list[float]) -> Latency | None:
    """``samples_ms`` (one per batch) summed up: nearest-rank p50 and p99, and the max; None for no sample."""
    if not samples_ms:
        return None
    ordered = sorted(samples_ms)

    def rank(p: int) -> float:
        return float(ordered[max(0, -(-len(ordered) * p // 100) - 1)])

    return Latency(batches=len(ordered), p50_ms=rank(50), p99_ms=rank(99), max_ms=float(ordered[-1]))


def encode(record: ReadingBatch | Event | DeviceStatus | AlarmTransition | AlarmAction | AlarmChange
           | PipelineMetrics | SeriesLines | dict) -> bytes:
    return orjson.dumps(record)


def decode(data: bytes) -> dict:
    return orjson.loads(data)
