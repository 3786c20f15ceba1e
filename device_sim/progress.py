"""The live progress line of ``hazmon sim run`` and ``hazmon sim load`` (Chinese by default): rewritten in
place on a terminal, one line per update anywhere else (a ``\r`` line in a log file is one giant line)."""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Callable, Sequence
from typing import TextIO

from device_sim.device import DeviceStats

TEMPLATES = {
    "zh": "{label} {done:5.1f}% | 时间 {now:,.0f}/{total:,.0f} s | 消息 {published:,} | 读数 {readings:,} | "
          "在线设备 {online}/{devices} | 断线 {drops} | 重连失败 {errors}   ",
    "en": "{label} {done:5.1f}% | time {now:,.0f}/{total:,.0f} s | messages {published:,} | readings {readings:,} | "
          "devices online {online}/{devices} | drops {drops} | failed connects {errors}   ",
}


def totals(stats: Sequence[DeviceStats]) -> dict[str, int]:
    return {"published": sum(s.published for s in stats), "readings": sum(s.readings for s in stats),
            "online": sum(s.connected for s in stats), "devices": len(stats),
            "drops": sum(s.drops for s in stats), "errors": sum(s.errors for s in stats)}


def progress_line(language: str, label: str, now: float, total: float, stats: Sequence[DeviceStats]) -> str:
    done = 100.0 * min(now, total) / total if total else 100.0
    return TEMPLATES[language].format(label=label, done=done, now=min(now, total), total=total, **totals(stats))


async def show_progress(language: str, label: str, now: Callable[[], float], total: float,
                        stats: Sequence[DeviceStats], interval_s: float, out: TextIO = sys.stderr) -> None:
    """Rewrite the progress line every ``interval_s`` until cancelled (on a terminal; elsewhere a line each time)."""
    start, end = ("\r", "") if out.isatty() else ("", "\n")
    try:
        while True:
            out.write(start + progress_line(language, label, now(), total, stats) + end)
            out.flush()
            await asyncio.sleep(interval_s)
    finally:
        out.write(start + progress_line(language, label, now(), total, stats) + "\n")
        out.flush()
