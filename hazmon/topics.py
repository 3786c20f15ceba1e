"""Kafka topic names, how each is keyed, and how long each keeps its records.

Every topic is keyed by ``enterprise_id``: one enterprise's records share a partition, so a point's
readings stay in order and everything the rules evaluate together (a voting group, a site's
roll-up, an enterprise's risk colour) is seen by one worker. See docs/architecture.md. The one
exception is ``ALARM_CHANGES``, keyed by alarm id: what matters there is one alarm's versions in
order (the uplink forwards them upward, docs/uplink.md); and ``PIPELINE_METRICS``, keyed by the
reporting component (docs/dashboards.md, "Pipeline metrics").

The platform creates every topic itself, with these configs, before any process reads or writes it
(``hazmon.kafka_topics.ensure_topics``): a topic a producer created by accident would take the
broker's default 7-day retention, and a worker that subscribed before it existed would never read it.
"""

from typing import Final, Literal

READINGS: Final = "hazmon.readings.v1"              # wire.ReadingBatch, several readings per record
EVENTS: Final = "hazmon.events.v1"                  # wire.Event (data standard §4)
DEVICE_STATUS: Final = "hazmon.device-status.v1"    # wire.DeviceStatus (§5, and MQTT wills)
DEADLETTER: Final = "hazmon.deadletter.v1"          # original bytes; metadata in headers (§6)
INGEST_STATS: Final = "hazmon.ingest-stats.v1"      # counters per enterprise and reason
ALARM_TRANSITIONS: Final = "hazmon.alarm-transitions.v1"  # wire.AlarmTransition, from stream_rules
ALARM_ACTIONS: Final = "hazmon.alarm-actions.v1"    # officers' actions (ack, close, suppress), from the API
ALARM_CHANGES: Final = "hazmon.alarm-changes.v1"    # wire.AlarmChange: every change of an alarm, from alerting
PIPELINE_METRICS: Final = "hazmon.pipeline-metrics.v1"  # wire.PipelineMetrics: a process's lag and latency per period

ALL: Final = (READINGS, EVENTS, DEVICE_STATUS, DEADLETTER, INGEST_STATS, ALARM_TRANSITIONS, ALARM_ACTIONS,
              ALARM_CHANGES, PIPELINE_METRICS)

Keeping = Literal["input", "deadletter", "forever"]
KEEPING: Final[dict[str, Keeping]] = {
    READINGS: "input", EVENTS: "input", DEVICE_STATUS: "input", INGEST_STATS: "input", PIPELINE_METRICS: "input",
    ALARM_CHANGES: "input",   # a copy for the uplink's store and forward (§11: the county's retention, days)
    DEADLETTER: "deadletter",
    ALARM_TRANSITIONS: "forever", ALARM_ACTIONS: "forever",   # §8: alarms are kept for good
}


def base_of(name: str) -> str:
    """The platform topic ``name`` is, without a test's or run's suffix."""
    base = max((b for b in KEEPING if name.startswith(b)), key=len, default=None)
    if base is None:
        raise ValueError(f"{name!r} is not a hazmon topic (hazmon.topics.ALL)")
    return base


def keeping(name: str) -> Keeping:
    """How long the topic ``name`` keeps its records: by its base name (a test's or run's suffix is ignored)."""
    return KEEPING[base_of(name)]


def sibling(name: str, base: str) -> str:
    """The topic ``base`` with the same suffix as ``name`` (``hazmon.alarm-actions.v1.t1`` → ``….v1.t1``)."""
    return base + name[len(base_of(name)):]
