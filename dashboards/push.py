"""Installing the dashboards into a running Grafana through its HTTP API (grafana-client), idempotently.

Each object is read first and written only when it differs from what would be written, so a second
push sends no write request at all: the data source (by uid), the folder (by uid), then each
dashboard (by uid, compared without Grafana's own ``id`` and ``version``).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from typing import Literal

from grafana_client import AsyncGrafanaApi
from grafana_client.client import GrafanaClientError

from dashboards.provisioning import FOLDER_UID
from dashboards.target import DATASOURCE_UID

log = logging.getLogger(__name__)
_GRAFANA_OWNED = ("id", "version")
Outcome = Literal["created", "updated", "unchanged"]


@dataclass
class PushReport:
    """What a push changed; empty lists mean Grafana already had everything."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    unchanged: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated)


async def _get(call, *args) -> dict | None:  # noqa: ANN001 - grafana-client methods are untyped
    try:
        return await call(*args)
    except GrafanaClientError as exc:
        if exc.status_code == 404:
            return None
        raise


def _differs(wanted: dict, current: dict) -> bool:
    """True when ``current`` lacks or has other values for any key of ``wanted``."""
    return any(current.get(key) != value for key, value in wanted.items())


def _without_grafana_owned(model: dict) -> dict:
    return {key: value for key, value in model.items() if key not in _GRAFANA_OWNED}


class GrafanaPusher:
    def __init__(self, url: str, token: str, timeout_s: float = 30.0) -> None:
        self._api = AsyncGrafanaApi.from_url(url, credential=token, timeout=timeout_s)
        self.report = PushReport()

    async def push(self, datasource: dict, folder_title: str, dashboards: dict[str, dict]) -> PushReport:
        await self._datasource(datasource)
        await self._folder(folder_title)
        for uid, model in sorted(dashboards.items()):
            await self._dashboard(uid, model)
        return self.report

    def _record(self, kind: str, uid: str, outcome: Outcome) -> None:
        getattr(self.report, outcome).append(f"{kind}:{uid}")
        log.info("grafana object pushed", extra={"kind": kind, "uid": uid, "outcome": outcome})

    async def _datasource(self, wanted: dict) -> None:
        current = await _get(self._api.datasource.get_datasource_by_uid, DATASOURCE_UID)
        if current is None:
            await self._api.datasource.create_datasource(wanted)
            self._record("datasource", DATASOURCE_UID, "created")
        elif _differs(wanted, current):
            await self._api.datasource.update_datasource_by_uid(DATASOURCE_UID, wanted)
            self._record("datasource", DATASOURCE_UID, "updated")
        else:
            self._record("datasource", DATASOURCE_UID, "unchanged")

    async def _folder(self, title: str) -> None:
        current = await _get(self._api.folder.get_folder, FOLDER_UID)
        if current is None:
            await self._api.folder.create_folder(title, uid=FOLDER_UID)
            self._record("folder", FOLDER_UID, "created")
        elif current.get("title") != title:
            await self._api.folder.update_folder(FOLDER_UID, title=title, overwrite=True)
            self._record("folder", FOLDER_UID, "updated")
        else:
            self._record("folder", FOLDER_UID, "unchanged")

    async def _dashboard(self, uid: str, model: dict) -> None:
        current = await _get(self._api.dashboard.get_dashboard, uid)
        stored = None if current is None else _without_grafana_owned(current["dashboard"])
        in_folder = current is not None and current.get("meta", {}).get("folderUid") == FOLDER_UID
        if stored == _without_grafana_owned(model) and in_folder:
            self._record("dashboard", uid, "unchanged")
            return
        await self._api.dashboard.update_dashboard({"dashboard": model, "folderUid": FOLDER_UID, "overwrite": True,
                                                    "message": "hazmon dashboards push"})
        self._record("dashboard", uid, "created" if current is None else "updated")
