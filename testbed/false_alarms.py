"""False alarms and missed alarms of the rule engine on a county under field conditions, in process.

A county of ``enterprises`` from ``device_sim.county`` (every §7 type), ``days`` of field noise and
field conditions with their ground truth (``device_sim.field``), fed in arrival order to
``stream_rules.engine.RuleEngine``: ``process`` for each window of ``batch_s`` of arrival time, then
``tick`` at the window's end; through silence (no record arrives) ``tick`` every ``tick_s`` of platform
time as the worker does. A tick never runs ahead of records that arrived before it. The alarms it opens
are judged against the truth (``device_sim.alarm_truth``). Run by ``bench/false_alarms.py`` and the
rules' field-conditions test: ``judge_county(1, 3, 1).summary()``.
"""

from __future__ import annotations

import tempfile
from pathlib import Path

from device_sim.alarm_truth import OPENING, Result, judge
from device_sim.county import write_county
from device_sim.field import FieldCounty, field_county
from device_sim.field_feed import feed
from hazmon.registry import load_registry
from hazmon.settings import get_settings
from hazmon.wire import AlarmTransition
from stream_rules.engine import RuleEngine


def run_engine(county: FieldCounty, batch_s: float, tick_s: float) -> list[AlarmTransition]:
    """Every opening transition the engine emits for the county's feed; its clock is the platform's."""
    now = [county.start_ms]
    engine = RuleEngine(county.registry, clock=lambda: now[0], lateness_s=get_settings().rules_lateness_s)
    batch_ms, tick_ms = int(batch_s * 1000), int(tick_s * 1000)
    next_tick = county.start_ms + tick_ms
    out: list[AlarmTransition] = []
    for step in feed(county, batch_s):
        while next_tick <= step.now_ms - batch_ms:     # silence before this window: the deadman ticks on
            now[0] = next_tick
            out += engine.tick(next_tick)
            next_tick += tick_ms
        now[0] = step.now_ms
        out += engine.process(step.readings, step.events, step.statuses)
        if next_tick <= step.now_ms:
            out += engine.tick(step.now_ms)
            next_tick += tick_ms * ((step.now_ms - next_tick) // tick_ms + 1)
    end_ms = county.start_ms + int(county.duration_s * 1000)
    while next_tick <= end_ms:
        now[0] = next_tick
        out += engine.tick(next_tick)
        next_tick += tick_ms
    return [t for t in out if t["transition"] in OPENING]


def judge_county(days: float, enterprises: int, seed: int, batch_s: float = 30.0, tick_s: float = 5.0) -> Result:
    """Generate the county and its field conditions, run the engine, judge its alarms."""
    with tempfile.TemporaryDirectory(prefix="false-alarms-") as tmp:
        write_county(Path(tmp), enterprises, seed)
        registry = load_registry(Path(tmp))
    county = field_county(registry, days, seed)
    return judge(county.truths, run_engine(county, batch_s, tick_s), county.point_days(), county.conditions,
                 county.start_ms)
