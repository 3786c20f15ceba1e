"""Kafka topic names, how each is keyed, and how long each keeps its records.

Every topic is keyed by ``enterprise_id``: one enterprise's records share a partition, so a point's
readings stay in order and everything the rules evaluate together (a voting group, a site's
roll-up, an enterprise's risk colour) is seen by one worker. See docs/architecture.md. The one
exception is ``ALARM_CHANGES``, keyed by alarm id: what matters there is one alarm's versions in
order (the uplink forwards them upward, docs/uplink.md); ``PIPELINE_METRICS`` and ``SERIES``, keyed by
the reporting component (docs/dashboards.md, "Pipeline metrics"; docs/architecture.md, "InfluxDB").

The platform creates every topic itself, with these configs, before any process reads or writes it
(``hazmon.kafka_topics.ensure_topics``): a topic a producer created by accident would take the
broker's default 7-day retention, and a worker that subscribed before it existed would never read it.
"""

from __future__ import annotations

from dataclasses import astuple, dataclass
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from hazmon.settings import Settings

READINGS: Final = "hazmon.readings.v1"              # wire.ReadingBatch, several readings per record
EVENTS: Final = "hazmon.events.v1"                  # wire.Event (data standard §4)
DEVICE_STATUS: Final = "hazmon.device-status.v1"    # wire.DeviceStatus (§5, and MQTT wills)
DEADLETTER: Final = "hazmon.deadletter.v1"          # original bytes; metadata in headers (§6)
INGEST_STATS: Final = "hazmon.ingest-stats.v1"      # counters per enterprise and reason
ALARM_TRANSITIONS: Final = "hazmon.alarm-transitions.v1"  # wire.AlarmTransition, from stream_rules
ALARM_ACTIONS: Final = "hazmon.alarm-actions.v1"    # officers' actions (ack, close, suppress), from the API
ALARM_CHANGES: Final = "hazmon.alarm-changes.v1"    # wire.AlarmChange: every change of an alarm, from alerting
PIPELINE_METRICS: Final = "hazmon.pipeline-metrics.v1"  # wire.PipelineMetrics: a process's lag and latency per period
SERIES: Final = "hazmon.series.v1"                  # wire.SeriesLines: InfluxDB lines a stage computed, for the recorder

ALL: Final = (READINGS, EVENTS, DEVICE_STATUS, DEADLETTER, INGEST_STATS, ALARM_TRANSITIONS, ALARM_ACTIONS,
              ALARM_CHANGES, PIPELINE_METRICS, SERIES)

Keeping = Literal["input", "deadletter", "forever"]
KEEPING: Final[dict[str, Keeping]] = {
    READINGS: "input", EVENTS: "input", DEVICE_STATUS: "input", INGEST_STATS: "input", PIPELINE_METRICS: "input",
    SERIES: "input",          # the recorder's backlog: alarms themselves are kept for good in their own topics
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


@dataclass(frozen=True, slots=True)
class PlatformTopics:
    """The names of every platform topic of one installation: the one place a name is made.

    An installation's topics are the base names above with one suffix, ``kafka_topic_suffix``
    (empty in production; a test's or a side-by-side run's own on a shared Kafka), so every process
    configured alike reads and writes the same topics.
    """

    readings: str
    events: str
    device_status: str
    deadletter: str
    ingest_stats: str
    transitions: str
    actions: str
    changes: str
    metrics: str
    series: str

    @classmethod
    def with_suffix(cls, suffix: str = "") -> PlatformTopics:
        """The platform's topics, each with ``suffix`` appended."""
        return cls(*(name + suffix for name in ALL))

    @classmethod
    def of(cls, settings: Settings) -> PlatformTopics:
        """The topics of the installation ``settings`` describe (``settings.kafka_topic_suffix``)."""
        return cls.with_suffix(settings.kafka_topic_suffix)

    @property
    def suffix(self) -> str:
        """The suffix every name carries."""
        return self.readings[len(READINGS):]

    def all(self) -> tuple[str, ...]:
        """Every name, in the order of ``ALL``."""
        return astuple(self)
