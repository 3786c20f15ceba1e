"""Bearer tokens with roles: ``duty`` sees and acts on every enterprise, ``enterprise`` only on its own,
and only while the enterprise is in the registry (a removed one's token answers 401 at once)."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable, Container
from pathlib import Path

from aiohttp import web

from hazmon.http_error import json_error
from hazmon.registry import Registry
from hazmon.secrets import Principal, load_secrets, token_index


class TokenIndex:
    """Bearer token → principal; an enterprise's token counts only while ``registered()`` holds it."""

    def __init__(self, tokens: dict[str, Principal], registered: Callable[[], Container[str]]) -> None:
        self.tokens = tokens
        self._registered = registered

    def principal(self, token: str) -> Principal | None:
        principal = self.tokens.get(token)
        if principal is not None and principal.enterprise is not None and principal.enterprise not in self._registered():
            return None
        return principal

    async def reload(self, secrets_path: Path, registry: Registry) -> None:
        """The tokens of ``registry``'s enterprises from the secrets file (created there for a new one),
        as the registry reloads: an enterprise added while running gets its token."""
        secrets = await asyncio.to_thread(load_secrets, secrets_path, tuple(registry.enterprises))
        self.tokens = token_index(secrets)


PRINCIPAL = web.AppKey("principal_index", TokenIndex)
CALLER = web.RequestKey("caller", Principal)
PUBLIC_PATHS = frozenset({"/healthz", "/api/v1/openapi.json"})


@web.middleware
async def bearer_auth(request: web.Request, handler: Callable[[web.Request], Awaitable[web.StreamResponse]]) -> web.StreamResponse:
    if not request.path.startswith("/api/") or request.path in PUBLIC_PATHS or CALLER in request:
        return await handler(request)   # CALLER already set: a desk officer's session (alerting.desk.web)
    header = request.headers.get("Authorization", "")
    scheme, _, token = header.partition(" ")
    principal = request.app[PRINCIPAL].principal(token.strip()) if scheme.lower() == "bearer" else None
    if principal is None:
        return json_error(401, "unauthorized", "缺少或无效的访问令牌 (missing or invalid bearer token)")
    request[CALLER] = principal
    return await handler(request)


def principal_of(request: web.Request) -> Principal:
    return request[CALLER]


def may_see(principal: Principal, enterprise: str) -> bool:
    """duty and prefecture: every enterprise; enterprise: its own; town (a desk account): its town's."""
    if principal.role in ("duty", "prefecture"):
        return True
    if principal.role == "town":
        return principal.enterprises is not None and enterprise in principal.enterprises
    return principal.enterprise == enterprise


def may_act(principal: Principal) -> bool:
    """Whether the caller may sign, close or suppress what it sees: the prefecture only watches (issue 17)."""
    return principal.role != "prefecture"


def watch_only() -> web.Response:
    return json_error(403, "watch_only", "州级账号只能查看 (the prefecture's accounts only watch)")


def forbidden() -> web.Response:
    return json_error(403, "forbidden", "无权访问其他企业的数据 (this token may not access that enterprise)")


def actor(principal: Principal, officer: str | None) -> str:
    """Who acted, as recorded: the role (and enterprise), then the officer: a desk account's own name, or
    the name a token's caller gives."""
    who = {"duty": "duty", "town": "town"}.get(principal.role, f"enterprise:{principal.enterprise}")
    officer = principal.officer or officer
    return f"{who}/{officer}" if officer else who
