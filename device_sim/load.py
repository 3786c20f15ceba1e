"""``hazmon sim load``: many device connections publishing telemetry at a target rate (or as fast as
QoS 1 allows), for benchmarks; a final report of what was sent and acknowledged."""

from __future__ import annotations

import asyncio
import itertools
import resource
import time
from collections.abc import Awaitable, Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import orjson

from hazmon.registry import PointType, load_registry
from hazmon.registry.loader import PointEntry
from hazmon.settings import Settings

from device_sim.device import PublishWindow, SimDevice
from device_sim.hydrology import pond_state
from device_sim.progress import show_progress, totals
from device_sim.signals import signal
from device_sim.stream import rng_for

SAMPLES_PER_POINT = 360   # an hour of baseline values per point, cycled
TICK_S = 0.01             # the shortest sleep of a paced connection: what is due meanwhile goes together
DRAIN_S = 30.0            # the longest wait for the last acknowledgements at the end


@dataclass(frozen=True)
class LoadPlan:
    connections: int
    rate: float               # messages per second over all connections; 0 = as fast as possible
    seconds: float
    readings_per_message: int
    run_id: str               # carried in every payload ("sim", ignored by the platform, §3) to count this run's messages
    part: int = 0             # this process drives connections part, part + parts, …: several load processes, one GIL each
    parts: int = 1


class Telemetry:
    """Payloads of one device: its points' baseline values in turn, ``per_message`` readings each."""

    def __init__(self, entries: list[PointEntry], per_message: int, run_id: str) -> None:
        self.points = [e.id for e in entries]
        self.values = [baseline(e, time.time()).round(6).tolist() for e in entries]
        self.per_message, self.run_id = per_message, run_id
        self.counter = itertools.count()

    def next_payload(self) -> tuple[bytes, int]:
        seq = next(self.counter)
        ts = int(time.time() * 1000)
        readings = []
        for i in range(self.per_message):
            k = seq * self.per_message + i
            point = k % len(self.points)
            readings.append({"point": self.points[point], "value": self.values[point][(k // len(self.points)) % SAMPLES_PER_POINT],
                             "ts": ts})
        return orjson.dumps({"v": 1, "ts": ts, "seq": seq, "sim": self.run_id, "readings": readings}), len(readings)


def baseline(entry: PointEntry, now_s: float) -> np.ndarray:
    """An hour or more of the point's undisturbed values from ``now_s`` (its site's pond for tailings types)."""
    duration = SAMPLES_PER_POINT * entry.point.period_s
    pond = pond_state(rng_for(0, entry.enterprise, entry.site.id), now_s, duration, [])
    return signal(entry, now_s + entry.point.period_s * np.arange(SAMPLES_PER_POINT), rng_for(0, entry.enterprise, entry.id), pond)


async def publish_paced(device: SimDevice, telemetry: Telemetry, plan: LoadPlan, wall_start: float) -> None:
    """Publish for ``plan.seconds`` at this connection's share of the rate, with a bounded QoS 1 window: each
    wake-up (at most every TICK_S) sends every message due by then that the window has room for."""
    interval = plan.connections / plan.rate if plan.rate else 0.0
    total = int(plan.seconds / interval) + 1 if interval else None   # messages with due times inside the run
    topic = f"hazmon/v1/{device.enterprise}/{device.device}/telemetry"
    async with device.client() as client:
        await device.announce(client, None)
        window = PublishWindow(client, device.stats, device.settings.sim_max_inflight, telemetry.per_message)
        sent = 0
        while (elapsed := time.monotonic() - wall_start) < plan.seconds and (total is None or sent < total):
            due = min(int(elapsed / interval) + 1, total) if total is not None else sent + window.free
            for _ in range(min(due - sent, window.free)):
                window.publish(topic, telemetry.next_payload()[0])
                sent += 1
            if not window.free:
                await window.wait_for_room()
            elif total is not None:
                await asyncio.sleep(max(TICK_S, wall_start + sent * interval - time.monotonic()))
        await window.drain(DRAIN_S)
    device.stats.connected = False


def load_devices(registry_dir: Path, connections: int) -> list[tuple[str, str, list[PointEntry]]]:
    registry = load_registry(registry_dir)
    devices = []
    for enterprise in sorted(registry.enterprises):
        for device, entries in sorted(registry.devices(enterprise).items()):
            measured = [e for e in entries if e.point.type is not PointType.FIRE_DETECTOR]
            if measured:
                devices.append((enterprise, device, measured))
    if len(devices) < connections:
        raise ValueError(f"the registry {registry_dir} has {len(devices)} measuring devices, fewer than "
                         f"{connections} connections: generate a bigger county (hazmon sim county)")
    return devices[:connections]


async def run_load(settings: Settings, registry_dir: Path, plan: LoadPlan, passwords: Mapping[str, str],
                   go: Callable[[], Awaitable[None]] | None = None) -> dict[str, Any]:
    """Run the load, each enterprise connecting with its broker password of ``passwords``, and return the
    report: sent and acknowledged messages and readings, rates. With ``go``, the devices and their payloads
    are made first and the load starts when ``go`` returns (several load processes start together)."""
    chosen = load_devices(registry_dir, plan.connections)[plan.part::plan.parts]
    devices = [SimDevice(settings, e, d, passwords[e], client_id=f"sim-load-{plan.run_id}-{e}-{d}") for e, d, _ in chosen]
    payloads = [Telemetry(entries, plan.readings_per_message, plan.run_id) for _, _, entries in chosen]
    if go is not None:
        await go()
    stats = [device.stats for device in devices]
    wall_start, cpu_start, wait_start = time.monotonic(), cpu_seconds(), runqueue_wait_seconds()
    progress = asyncio.create_task(show_progress(settings.language, f"load {plan.run_id}",
                                                 lambda: time.monotonic() - wall_start, plan.seconds, stats,
                                                 settings.sim_progress_s))
    try:
        await asyncio.gather(*(publish_paced(d, p, plan, wall_start) for d, p in zip(devices, payloads)))
    finally:
        progress.cancel()
        await asyncio.gather(progress, return_exceptions=True)
    elapsed, cpu_s = time.monotonic() - wall_start, cpu_seconds() - cpu_start
    wait_end = runqueue_wait_seconds()
    sent = totals(stats)
    return {"run_id": plan.run_id, "connections": len(chosen), "target_rate": plan.rate * len(chosen) / plan.connections,
            "seconds": round(elapsed, 3), "messages": sent["published"], "readings": sent["readings"],
            "messages_per_s": round(sent["published"] / elapsed, 1), "readings_per_s": round(sent["readings"] / elapsed, 1),
            "cpu_s": round(cpu_s, 2), "cpu_s_per_million_readings": round(cpu_s * 1e6 / sent["readings"], 2) if sent["readings"] else None,
            "runqueue_wait_s": None if wait_start is None or wait_end is None else round(wait_end - wait_start, 2)}


def cpu_seconds() -> float:
    """User and system CPU this process has used (the load's own cost, reported apart from the pipeline's)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def runqueue_wait_seconds() -> float | None:
    """Seconds this process's thread has waited, runnable, for a CPU (Linux schedstat; None elsewhere): time the
    load was ready to publish but the machine was busy with other work, which its own CPU does not show."""
    try:
        return int(Path("/proc/thread-self/schedstat").read_text().split()[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None
