"""The error body every hazmon HTTP API promises (the county's, ``alerting.api``, and the prefecture's,
``prefecture.api``, docs/uplink.md): ``{"error": code, "message": words, …}`` with the HTTP status, ``error`` a stable code
for machines, ``message`` for people, and any further fields the route names (e.g. ``field``)."""

from __future__ import annotations

from aiohttp import web


def json_error(status: int, error: str, message: str, **fields: str) -> web.Response:
    return web.json_response({"error": error, "message": message, **fields}, status=status)
