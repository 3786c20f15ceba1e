"""The runtime between the engine and the Faust table: records read again are not applied again; the copy of
the state it keeps before each batch.

Faust may hand an agent records it already processed (a seek back to the committed offset after a
rebalance); the offsets applied are kept in the enterprise's state, which commits with the outputs.
"""

from __future__ import annotations

from dataclasses import fields

import numpy as np
import pytest

from hazmon.registry import Registry
from stream_rules.alarms import OpenAlarm
from stream_rules.engine import RuleEngine
from stream_rules.runtime import TableRuntime
from stream_rules.state import EnterpriseState, LevelTrack
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


def _every_field_set() -> EnterpriseState:
    """A state with something in every field, lists, tracks and alarms included."""
    return EnterpriseState(
        ["P1", "P2"], np.array([1.0, -np.inf]), np.array([2.0, np.nan]), np.array([3.0, 4.0]), 5.0, 6.0, 7.0, 8.0,
        {"P1|above": LevelTrack([1.0, None, None], [None, 2.0, None], [True, False, False])}, {"P1": 9.0},
        {"P1": [10.0, 11.0]}, {"P1": [(1.0, 2.0), (3.0, 4.0, 2.0)]}, {"P1": [0.1, 2.0, 3.0, 4.0]}, {"P1": 12.0},
        {"P2": 13.0}, {"RTU1": 14.0}, {"RTU1": [-np.inf, 15.0]},
        {"limit|P1|above": OpenAlarm("id1", "limit", "S1", "RTU1", "P1", "high", 2, 16)}, {"topic": 17})


def _change_in_place(value: object) -> None:
    """Change every mutable object reachable from ``value`` in place, as the engine may."""
    if isinstance(value, np.ndarray):
        value[:] = 99.0
    elif isinstance(value, list):
        for item in value:
            _change_in_place(item)
        value.append(99.0)
    elif isinstance(value, dict):
        for key, item in value.items():
            if isinstance(item, (float, int)):
                value[key] = 99.0
            else:
                _change_in_place(item)
    elif isinstance(value, (LevelTrack, OpenAlarm)):
        for field in fields(value):
            item = getattr(value, field.name)
            _change_in_place(item)
            if not isinstance(item, list):
                setattr(value, field.name, None)


def test_a_frozen_state_thaws_to_the_same_state_and_shares_nothing_changed_in_place() -> None:
    """The runtime's copy before each batch (``Snapshot``): restored, it must be the state as it was, however
    the engine changed the state in place since, and as often as it is restored."""
    state = _every_field_set()
    before = state.to_bytes()
    frozen = state.frozen()
    thawed = EnterpriseState.thawed(frozen)
    assert thawed.to_bytes() == before
    for name in (f.name for f in fields(EnterpriseState)):
        _change_in_place(getattr(state, name))
    assert state.to_bytes() != before
    assert thawed.to_bytes() == before
    for name in (f.name for f in fields(EnterpriseState)):
        _change_in_place(getattr(thawed, name))
    assert EnterpriseState.thawed(frozen).to_bytes() == before
