"""``hazmon ingest check``: watch one enterprise's topics for a while and tell, per device and
point, what the platform accepts and what it refuses and why (the same rules as the adapter).
Device data (point names, details quoting it) is printed with control characters escaped."""

from __future__ import annotations

import asyncio
import time
from collections import Counter
from dataclasses import dataclass, field

from hazmon.console import table
from hazmon.logs import printable
from hazmon.registry import load_registry
from hazmon.settings import Settings
from ingest.directory import DeviceDirectory
from ingest.mqtt_link import platform_client
from ingest.parser import ParseRules, Verdict, parse_message
from ingest.reasons import Language
from ingest.topics import device_filters, split_topic

STATUS_ROW = "#status"  # not a valid point id (data standard §1), so it cannot clash with one
WHOLE_MESSAGE = {"zh": "（整条消息）", "en": "(whole message)"}
HEADINGS = {"zh": ("设备", "点位", "接收", "拒收", "原因", "最近一条说明"),
            "en": ("device", "point", "accepted", "refused", "reasons", "last detail")}
NOTHING = {"zh": "观察 {seconds:g} 秒，企业 {enterprise} 没有发来任何消息。",
           "en": "no message from enterprise {enterprise} in {seconds:g} s."}


@dataclass(slots=True)
class PointTally:
    accepted: int = 0
    refused: Counter[str] = field(default_factory=Counter)
    last_detail: str = ""


@dataclass(slots=True)
class CheckReport:
    """Per (device, point) tallies; point ``None`` stands for refusals of whole messages."""

    tallies: dict[tuple[str, str | None], PointTally] = field(default_factory=dict)
    messages: int = 0

    def _tally(self, device: str, point: str | None) -> PointTally:
        return self.tallies.setdefault((device, point), PointTally())

    def add(self, verdict: Verdict) -> None:
        self.messages += 1
        for point in verdict.readings.points:
            self._tally(verdict.device, point).accepted += 1
        if verdict.event is not None:
            self._tally(verdict.device, verdict.event["point"]).accepted += 1
        if verdict.status is not None:
            self._tally(verdict.device, STATUS_ROW).accepted += 1
        for refusal in verdict.refusals:
            tally = self._tally(verdict.device, refusal.point)
            tally.refused[refusal.reason.value] += 1
            tally.last_detail = refusal.detail

    def lines(self, language: Language) -> list[str]:
        rows = [HEADINGS[language]]
        for (device, point), tally in sorted(self.tallies.items(), key=lambda kv: (kv[0][0], kv[0][1] or "")):
            reasons = ", ".join(f"{reason}×{n}" for reason, n in sorted(tally.refused.items()))
            rows.append((printable(device), printable(point) if point else WHOLE_MESSAGE[language],
                         str(tally.accepted), str(sum(tally.refused.values())), reasons or "-",
                         printable(tally.last_detail) or "-"))
        return table(rows)


async def watch_enterprise(settings: Settings, enterprise: str, seconds: float) -> CheckReport:
    """Subscribe (plainly, beside the adapter's shared group) to ``enterprise``'s topics for ``seconds``."""
    directory = DeviceDirectory.from_registry(await asyncio.to_thread(load_registry, settings.registry_dir))
    report = CheckReport()
    rules = ParseRules.from_settings(settings)
    client = platform_client(settings, f"hazmon-check-{enterprise}-{time.monotonic_ns() % 10**9}", persistent=False)
    async with client:
        for filter_ in device_filters([enterprise]):
            await client.subscribe(filter_, qos=1)
        try:
            async with asyncio.timeout(seconds):
                async for message in client.messages:
                    route = split_topic(message.topic.value)
                    if route is not None and isinstance(message.payload, bytes):
                        report.add(parse_message(route[2], route[0], route[1], message.payload,
                                                 time.time_ns() // 1_000_000, directory, settings.language, rules))
        except TimeoutError:
            pass
    return report


def render(report: CheckReport, enterprise: str, seconds: float, language: Language) -> str:
    if not report.messages:
        return NOTHING[language].format(enterprise=enterprise, seconds=seconds)
    return "\n".join(report.lines(language))
