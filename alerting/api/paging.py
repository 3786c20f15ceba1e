"""Pages of the alarm listing (data standard §9 rev 1.1): newest first, ``limit`` and an opaque ``cursor``.

Alarms are ordered by ``started_at`` then id, both descending; a cursor is the key of the last alarm
of the page before, base64url-encoded JSON, so a page is "the next ``limit`` alarms strictly after
it" whatever was added meanwhile. Alarms not yet closed come from memory, closed ones from the
ledger; a page merges both.
"""

from __future__ import annotations

import base64
import binascii
from collections.abc import Callable

import orjson
from aiohttp import web

from alerting.api.auth import json_error
from alerting.ledger import Ledger
from alerting.model import Alarm, PageKey, key_of, newest_first

DEFAULT_LIMIT = 500
MAX_LIMIT = 5000


class PageRefused(Exception):
    """A ``limit`` or ``cursor`` the listing does not accept: HTTP 400 with a message that says why."""

    def __init__(self, error: str, message: str) -> None:
        super().__init__(message)
        self.error = error
        self.message = message

    def response(self) -> web.Response:
        return json_error(400, self.error, self.message)


def page_limit(raw: str | None) -> int:
    if raw in (None, ""):
        return DEFAULT_LIMIT
    try:
        limit = int(raw)
    except ValueError:
        raise PageRefused("bad_limit", f"limit must be an integer from 1 to {MAX_LIMIT}") from None
    if not 1 <= limit <= MAX_LIMIT:
        raise PageRefused("bad_limit", f"limit must be from 1 to {MAX_LIMIT} (每页最多 {MAX_LIMIT} 条), got {limit}")
    return limit


def encode_cursor(key: PageKey) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(key))).decode().rstrip("=")


def decode_cursor(raw: str | None) -> PageKey | None:
    if raw in (None, ""):
        return None
    try:
        started_at, alarm_id = orjson.loads(base64.urlsafe_b64decode(raw + "=" * (-len(raw) % 4)))
    except (binascii.Error, orjson.JSONDecodeError, ValueError, TypeError):
        raise PageRefused("bad_cursor", "cursor is not one this API gave out; pass `next` of the previous page as is") from None
    if not isinstance(started_at, int) or not isinstance(alarm_id, str):
        raise PageRefused("bad_cursor", "cursor is not one this API gave out; pass `next` of the previous page as is")
    return started_at, alarm_id


def _after(ordered: list[Alarm], before: PageKey | None) -> int:
    """Index of the first alarm of ``ordered`` (newest first) strictly older than the cursor ``before``."""
    low, high = 0, len(ordered)
    if before is None:
        return low
    while low < high:
        middle = (low + high) // 2
        if key_of(ordered[middle]) < before:
            high = middle
        else:
            low = middle + 1
    return low


async def alarm_page(in_memory: list[Alarm], wanted: Callable[[Alarm], bool], ledger: Ledger | None,
                     enterprise: str | None, since: int | None, before: PageKey | None,
                     limit: int) -> tuple[list[Alarm], str | None]:
    """One page: the alarms in memory (``in_memory``, newest first) that are ``wanted`` merged with the
    ledger's closed ones (unless ``ledger`` is None). Memory is read from the cursor on and only until
    the page is full: no sorting, and no look at alarms the page does not reach.

    Memory is read first: an alarm closed and evicted while the ledger is read is in both, and the
    copy from memory is kept (a copy in the ledger of an alarm beyond the memory read is older than
    every alarm of the page, so it cannot be on it).
    """
    page: list[Alarm] = []
    for alarm in in_memory[_after(in_memory, before):]:
        if since is not None and alarm.started_at < since:
            break   # newest first: every later one started before ``since`` too
        if wanted(alarm):
            page.append(alarm)
            if len(page) > limit:
                break
    if ledger is not None:
        seen = {a.id for a in page}
        overlap = sum(1 for a in page if a.closed_at is not None)
        stored = [a for a in await ledger.closed_page(enterprise, since, before, limit + 1 + overlap)
                  if a.id not in seen]
        page = newest_first(page + stored)[:limit + 1]
    if len(page) > limit:
        return page[:limit], encode_cursor(key_of(page[limit - 1]))
    return page, None
