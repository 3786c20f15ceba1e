"""Grafana annotations for confirmed alarms, through grafana-client (only when ``grafana_url`` is set)."""

from __future__ import annotations

import logging

from grafana_client import AsyncGrafanaApi

from alerting.model import Alarm

log = logging.getLogger(__name__)


class GrafanaAnnotator:
    def __init__(self, url: str, token: str | None) -> None:
        self._api = AsyncGrafanaApi.from_url(url, credential=token)

    async def annotate(self, alarm: Alarm, ts: int) -> None:
        tags = ["hazmon", "alarm", f"enterprise:{alarm.enterprise}", f"site:{alarm.site}", f"point:{alarm.point}",
                f"rule:{alarm.rule}", f"level:{alarm.level or '-'}", f"alarm:{alarm.id}"]
        try:
            await self._api.annotations.add_annotation(time_from=ts, tags=tags, text=alarm.message)
        except Exception as exc:  # noqa: BLE001 - an annotation is a convenience, never a reason to stop
            log.warning("grafana annotation failed", extra={"alarm": alarm.id, "error": str(exc)})
