"""A local HTTP receiver that answers the part of Grafana's HTTP API the push uses, keeps state the
way Grafana does (uid-addressed data sources, folders and dashboards; ``id``/``version`` added on
save), refuses a wrong bearer token when told the right one, and records every request, so a test
can compare them with the documented API."""

from __future__ import annotations

from dataclasses import dataclass

import orjson
from aiohttp import web


@dataclass(frozen=True)
class Recorded:
    method: str
    path: str
    authorization: str
    body: dict | None


class FakeGrafana:
    def __init__(self, token: str | None = None) -> None:
        self._token = token
        self.requests: list[Recorded] = []
        self.datasources: dict[str, dict] = {}
        self.folders: dict[str, dict] = {}
        self.dashboards: dict[str, dict] = {}
        self._runner: web.AppRunner | None = None
        self.url = ""

    @property
    def writes(self) -> list[Recorded]:
        return [r for r in self.requests if r.method != "GET"]

    async def start(self) -> FakeGrafana:
        app = web.Application(middlewares=[self._record])
        app.router.add_get("/api/datasources/uid/{uid}", self._get_datasource)
        app.router.add_post("/api/datasources", self._create_datasource)
        app.router.add_put("/api/datasources/uid/{uid}", self._update_datasource)
        app.router.add_get("/api/folders/{uid}", self._get_folder)
        app.router.add_post("/api/folders", self._create_folder)
        app.router.add_put("/api/folders/{uid}", self._update_folder)
        app.router.add_get("/api/dashboards/uid/{uid}", self._get_dashboard)
        app.router.add_post("/api/dashboards/db", self._save_dashboard)
        self._runner = web.AppRunner(app, access_log=None)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", 0)
        await site.start()
        self.url = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001 - OS-picked port
        return self

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    @web.middleware
    async def _record(self, request: web.Request, handler) -> web.StreamResponse:  # noqa: ANN001
        raw = await request.read()
        authorization = request.headers.get("Authorization", "")
        self.requests.append(Recorded(request.method, request.path, authorization, orjson.loads(raw) if raw else None))
        if self._token is not None and authorization != f"Bearer {self._token}":
            return web.json_response({"message": "invalid API key"}, status=401)
        return await handler(request)

    @staticmethod
    def _not_found() -> web.Response:
        return web.json_response({"message": "not found"}, status=404)

    async def _get_datasource(self, request: web.Request) -> web.Response:
        found = self.datasources.get(request.match_info["uid"])
        return web.json_response(found) if found else self._not_found()

    async def _create_datasource(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.datasources[body["uid"]] = {**body, "id": len(self.datasources) + 1, "orgId": 1, "readOnly": False}
        return web.json_response({"message": "Datasource added", "id": len(self.datasources)})

    async def _update_datasource(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        if uid not in self.datasources:
            return self._not_found()
        self.datasources[uid] = {**self.datasources[uid], **await request.json()}
        return web.json_response({"message": "Datasource updated"})

    async def _get_folder(self, request: web.Request) -> web.Response:
        found = self.folders.get(request.match_info["uid"])
        return web.json_response(found) if found else self._not_found()

    async def _create_folder(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.folders[body["uid"]] = {"uid": body["uid"], "title": body["title"], "id": len(self.folders) + 1, "version": 1}
        return web.json_response(self.folders[body["uid"]])

    async def _update_folder(self, request: web.Request) -> web.Response:
        uid = request.match_info["uid"]
        self.folders[uid] = {**self.folders[uid], "title": (await request.json())["title"]}
        return web.json_response(self.folders[uid])

    async def _get_dashboard(self, request: web.Request) -> web.Response:
        found = self.dashboards.get(request.match_info["uid"])
        return web.json_response(found) if found else self._not_found()

    async def _save_dashboard(self, request: web.Request) -> web.Response:
        body = await request.json()
        model = body["dashboard"]
        previous = self.dashboards.get(model["uid"])
        version = 1 if previous is None else previous["dashboard"]["version"] + 1
        self.dashboards[model["uid"]] = {"dashboard": {**model, "id": len(self.dashboards) + 1, "version": version},
                                         "meta": {"folderUid": body.get("folderUid", "")}}
        return web.json_response({"status": "success", "uid": model["uid"], "version": version})
