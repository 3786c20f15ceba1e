"""MQTT topic names of the data standard §2, and the Kafka topic names this adapter writes."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from hazmon import topics
from hazmon.settings import Settings

PREFIX = "hazmon/v1/"


class Kind(StrEnum):
    TELEMETRY = "telemetry"
    EVENT = "event"
    STATUS = "status"


def split_topic(topic: str) -> tuple[str, str, Kind] | None:
    """``hazmon/v1/{enterprise}/{device}/{kind}`` → (enterprise, device, kind), or None."""
    parts = topic.split("/")
    if len(parts) != 5 or f"{parts[0]}/{parts[1]}/" != PREFIX or not parts[2] or not parts[3]:
        return None
    try:
        return parts[2], parts[3], Kind(parts[4])
    except ValueError:
        return None


def errors_topic(enterprise: str, device: str) -> str:
    return f"{PREFIX}{enterprise}/{device}/errors"


def device_filters(enterprises: list[str]) -> list[str]:
    """Topic filters for every kind of message of ``enterprises`` (all enterprises when empty)."""
    scopes = enterprises or ["+"]
    return [f"{PREFIX}{scope}/+/{kind.value}" for scope in scopes for kind in Kind]


def shared(filter_: str, group: str) -> str:
    return f"$share/{group}/{filter_}"


@dataclass(frozen=True, slots=True)
class KafkaTopics:
    """The Kafka topics of ``hazmon.topics`` that ingest writes, with ``settings.ingest_topic_suffix``."""

    readings: str
    events: str
    device_status: str
    deadletter: str
    stats: str
    metrics: str

    @classmethod
    def from_settings(cls, settings: Settings) -> KafkaTopics:
        suffix = settings.ingest_topic_suffix
        return cls(topics.READINGS + suffix, topics.EVENTS + suffix, topics.DEVICE_STATUS + suffix,
                   topics.DEADLETTER + suffix, topics.INGEST_STATS + suffix, topics.PIPELINE_METRICS + suffix)
