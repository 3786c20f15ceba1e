"""The runtime between the engine and the Faust table: records read again are not applied again.

Faust may hand an agent records it already processed (a seek back to the committed offset after a
rebalance); the offsets applied are kept in the enterprise's state, which commits with the outputs.
"""

from __future__ import annotations

import pytest

from hazmon.registry import Registry
from stream_rules.engine import RuleEngine
from stream_rules.runtime import TableRuntime
from tests.stream_rules.county import ENT, controller_event, summary, write_registry

TOPIC = "hazmon.events.v1"


@pytest.fixture(scope="module")
def registry(tmp_path_factory: pytest.TempPathFactory) -> Registry:
    return write_registry(tmp_path_factory.mktemp("registry"))


def runtime(registry: Registry, table: dict[bytes, bytes]) -> TableRuntime:
    return TableRuntime(RuleEngine(registry, clock=lambda: 0), table)


def test_a_record_read_again_is_skipped(registry: Registry) -> None:
    rules = runtime(registry, {})
    first = rules.process("events", TOPIC, [7], [controller_event("disabled", 0)])
    assert summary(first) == [("fire", "recorded", None)]
    assert rules.process("events", TOPIC, [7], [controller_event("disabled", 0)]) == []   # the engine alone would record it twice
    assert rules.replayed[TOPIC] == 1
    assert summary(rules.process("events", TOPIC, [7, 8], [controller_event("disabled", 0), controller_event("fire", 5)])) == \
        [("fire", "confirmed", None)]


def test_a_new_process_skips_what_the_flushed_table_says_was_applied(registry: Registry) -> None:
    table: dict[bytes, bytes] = {}
    first = runtime(registry, table)
    first.process("events", TOPIC, [3], [controller_event("disabled", 0)])
    assert table == {}                 # written at the commit, not per batch
    first.flush()
    assert list(table) == [ENT.encode()]
    successor = runtime(registry, table)
    assert successor.process("events", TOPIC, [3], [controller_event("disabled", 0)]) == []
    assert summary(successor.process("events", TOPIC, [4], [controller_event("disabled", 10)])) == [("fire", "recorded", None)]


def test_offsets_are_kept_per_source_topic(registry: Registry) -> None:
    rules = runtime(registry, {})
    rules.process("events", TOPIC, [9], [controller_event("disabled", 0)])
    assert summary(rules.process("events", "another-topic", [0], [controller_event("disabled", 10)])) == [("fire", "recorded", None)]
