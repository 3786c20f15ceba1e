"""§10 on the demo's data: the alarm texts the rule engine composes for the sample registry's shipped
scenarios and for a generated county name points and devices as officers know them, never by id."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from hazmon.registry import Registry, load_registry
from hazmon.wire import AlarmTransition
from stream_rules.catalog import compile_registry

from device_sim import shipped_scenarios
from device_sim.county import write_county

from tests.device_sim.test_rule_engine_agrees import transitions


def codes(registry: Registry) -> re.Pattern[str]:
    """Any point or device id of the registry, as a word of its own."""
    ids = {e.id for e in registry} | {e.point.device for e in registry}
    return re.compile("|".join(rf"(?<![A-Za-z0-9_]){re.escape(i)}(?![A-Za-z0-9_])" for i in sorted(ids, key=len, reverse=True)))


@pytest.mark.parametrize("path", shipped_scenarios(), ids=lambda p: p.stem)
def test_the_scenarios_alarm_texts_carry_no_id(path: Path, sample_registry: Registry) -> None:
    said: list[AlarmTransition] = transitions(sample_registry, path)
    pattern = codes(sample_registry)
    for t in said:
        for text in (t["message"], t["message_en"]):
            assert not pattern.search(text), text


def test_a_generated_countys_alarm_subjects_carry_no_id(tmp_path: Path) -> None:
    write_county(tmp_path, 30, seed=7)
    registry = load_registry(tmp_path)
    pattern = codes(registry)
    for catalog in compile_registry(registry).values():
        subjects = [r.subject for r in catalog.rules]
        subjects += [catalog.device_subject(d) for d in catalog.devices]
        subjects += [catalog.group_subject(g) for g in catalog.groups]
        for subject in subjects:
            assert not pattern.search(subject.name) and not pattern.search(subject.name_en), subject
