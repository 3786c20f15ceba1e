"""Request bodies and query parameters of the API, validated so that a 422 names the bad field."""

from __future__ import annotations

from typing import TypeVar

import orjson
from aiohttp import web
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from alerting.api.auth import json_error
from alerting.model import CloseCause

Body = TypeVar("Body", bound=BaseModel)


class _Body(BaseModel):
    model_config = ConfigDict(extra="ignore", str_strip_whitespace=True)


class AckBody(_Body):
    comment: str = Field(min_length=1, max_length=2000)
    officer: str | None = Field(default=None, max_length=100)


class CloseBody(_Body):
    note: str = Field(min_length=1, max_length=4000)
    cause: CloseCause | None = Field(default=None, description="real_hazard 真实险情, device_fault 设备故障, "
                                                               "false_alarm 误报, test 测试, other 其他")
    measures: str | None = Field(default=None, max_length=2000)
    officer: str | None = Field(default=None, max_length=100)


class SuppressBody(_Body):
    reason: str = Field(min_length=1, max_length=2000)
    expires_at: int = Field(gt=0, description="ms since the Unix epoch")
    officer: str | None = Field(default=None, max_length=100)


class BadRequest(Exception):
    def __init__(self, field: str, detail: str) -> None:
        super().__init__(detail)
        self.field = field
        self.detail = detail

    def response(self) -> web.Response:
        return json_error(422, "invalid", f"{self.field}: {self.detail}", field=self.field, detail=self.detail)


async def parse_body(request: web.Request, model: type[Body]) -> Body:
    try:
        data = orjson.loads(await request.read())
    except orjson.JSONDecodeError as exc:
        raise BadRequest("body", f"not JSON: {exc}") from None
    if not isinstance(data, dict):
        raise BadRequest("body", "must be a JSON object")
    try:
        return model.model_validate(data)
    except ValidationError as exc:
        first = exc.errors()[0]
        raise BadRequest(".".join(str(p) for p in first["loc"]) or "body", first["msg"]) from None


def int_param(request: web.Request, name: str) -> int | None:
    raw = request.query.get(name)
    if raw in (None, ""):
        return None
    try:
        return int(raw)
    except ValueError:
        raise BadRequest(name, "must be an integer (ms since the Unix epoch)") from None
