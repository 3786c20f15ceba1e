"""Every process names the platform's Kafka topics one way: ``hazmon.topics.PlatformTopics``."""

from __future__ import annotations

from dataclasses import fields

from hazmon import topics
from hazmon.settings import Settings
from hazmon.topics import PlatformTopics


def test_every_platform_topic_has_a_name_and_the_suffix_reaches_each() -> None:
    names = PlatformTopics.of(Settings(kafka_topic_suffix=".t1"))
    assert len(fields(PlatformTopics)) == len(topics.ALL)
    assert names.all() == tuple(base + ".t1" for base in topics.ALL)
    assert names.suffix == ".t1"
    assert {topics.base_of(name) for name in names.all()} == set(topics.ALL)


def test_production_names_are_the_base_names() -> None:
    assert PlatformTopics.of(Settings()).all() == topics.ALL
    assert PlatformTopics.of(Settings()).transitions == topics.ALARM_TRANSITIONS
