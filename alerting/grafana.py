"""Grafana annotations for confirmed alarms, through grafana-client (only when ``grafana_url`` is set)."""

from __future__ import annotations

import logging
from collections.abc import Coroutine

from grafana_client import AsyncGrafanaApi

from alerting.model import Alarm

log = logging.getLogger(__name__)


class GrafanaAnnotator:
    def __init__(self, url: str, token: str | None) -> None:
        self._api = AsyncGrafanaApi.from_url(url, credential=token)

    def annotate(self, alarm: Alarm, ts: int) -> Coroutine[None, None, None]:
        """The annotation of ``alarm`` as it is now (it keeps changing while the request is under way)."""
        tags = ["hazmon", "alarm", f"enterprise:{alarm.enterprise}", f"site:{alarm.site}", f"point:{alarm.point}",
                f"rule:{alarm.rule}", f"level:{alarm.level or '-'}", f"alarm:{alarm.id}"]
        return self._post(alarm.id, ts, tags, alarm.message)

    async def _post(self, alarm_id: str, ts: int, tags: list[str], text: str) -> None:
        try:
            await self._api.annotations.add_annotation(time_from=ts, tags=tags, text=text)
        except Exception as exc:  # noqa: BLE001 - an annotation is a convenience, never a reason to stop
            log.warning("grafana annotation failed", extra={"alarm": alarm_id, "error": str(exc)})
