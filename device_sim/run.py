"""``hazmon sim run``: play a scenario on a county through real MQTT, with time warp and a live progress line."""

from __future__ import annotations

import asyncio
import logging
import time
from collections import Counter
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from hazmon.registry import load_registry
from hazmon.settings import Settings

from device_sim.clock import WarpClock, device_start_ms
from device_sim.device import SimDevice
from device_sim.progress import show_progress, totals
from device_sim.scenario import Scenario
from device_sim.stream import generate

log = logging.getLogger(__name__)


async def run_scenario(settings: Settings, registry_dir: Path, scenario: Scenario, speed: float,
                       passwords: Mapping[str, str], whole_county: bool = False) -> dict[str, Any]:
    """Play ``scenario`` at ``speed``× on its enterprises' devices (``whole_county``: on every device of
    the registry), each enterprise connecting with its broker password of ``passwords``, and return the
    final report."""
    registry = load_registry(registry_dir)
    start_ms = device_start_ms(scenario.duration_s, speed)
    run = await asyncio.to_thread(generate, scenario, registry, start_ms, whole_county)
    devices = {key: SimDevice(settings, key[0], key[1], passwords[key[0]]) for key in run.devices()}
    log.info("scenario starting", extra={"scenario": scenario.name, "speed": speed, "devices": len(devices),
                                         "messages": len(run.messages), "device_start_ms": start_ms})
    clock = WarpClock(speed)
    stats = [device.stats for device in devices.values()]
    progress = asyncio.create_task(show_progress(settings.language, scenario.name, clock.scenario_now,
                                                 scenario.duration_s, stats, settings.sim_progress_s))
    wall_start = time.monotonic()
    try:
        await asyncio.gather(*(devices[key].run(messages, clock, scenario.duration_s) for key, messages in run.devices().items()))
    finally:
        progress.cancel()
        await asyncio.gather(progress, return_exceptions=True)
    late = [lateness for s in stats for lateness in s.late_s]
    return {"scenario": scenario.name, "speed": speed, "registry": str(registry_dir), "device_start_ms": start_ms,
            "wall_s": round(time.monotonic() - wall_start, 3), **totals(stats),
            "max_late_s": round(max(late, default=0.0), 3),
            "expected_refusals": dict(Counter(m.refusal for m in run.messages if m.refusal is not None)),
            "expect": [a.model_dump(exclude_none=True) | {"window_ms": a.window_ms(start_ms)} for a in scenario.expect],
            "forbid": [a.model_dump(exclude_none=True) | {"window_ms": a.window_ms(start_ms)} for a in scenario.forbid]}
