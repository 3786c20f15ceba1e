"""Scenario time on the wall clock: scenario second ``t`` happens ``t / speed`` seconds after the start."""

from __future__ import annotations

import asyncio
import time


class WarpClock:
    def __init__(self, speed: float, wall_start: float | None = None) -> None:
        if speed <= 0:
            raise ValueError("speed must be positive")
        self.speed = speed
        self.wall_start = time.monotonic() if wall_start is None else wall_start

    def scenario_now(self) -> float:
        return (time.monotonic() - self.wall_start) * self.speed

    async def wait_until(self, at_s: float) -> float:
        """Sleep until scenario second ``at_s``; returns how late (wall seconds) it was already."""
        delay = self.wall_start + at_s / self.speed - time.monotonic()
        if delay > 0:
            await asyncio.sleep(delay)
            return 0.0
        return -delay


def device_start_ms(duration_s: float, speed: float, now_ms: int | None = None) -> int:
    """Device time of the scenario's second 0: now at speed 1; with time warp, now − duration, so that
    no accelerated stamp is ever ahead of real time (the platform refuses readings > 5 min ahead)."""
    now = int(time.time() * 1000) if now_ms is None else now_ms
    return now if speed <= 1 else now - int(duration_s * 1000)
