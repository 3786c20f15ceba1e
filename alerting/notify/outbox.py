"""The notification outbox: every notification due is recorded in the ledger before it is sent.

A change that calls for a notification is staged, one row per channel that wants it, in the ledger
transaction that records the change (``Ledger.stage_outbox``); only after that commit does it go to
storm control and the channel workers. A delivery (or a dead-letter) deletes the row. At start,
what the ledger still holds (due when the last process died) is sent again, each change alone, with
the same alarm id and version as before, so a receiver can fold a rare repeat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from alerting.ledger import Ledger
from alerting.notify.delivery import Deliverer
from alerting.notify.message import Notification, NotifiedChange

log = logging.getLogger(__name__)
Submit = Callable[[str, NotifiedChange, bool], None]   # (enterprise, change, urgent): storm control


class Outbox:
    def __init__(self, ledger: Ledger, deliverer: Deliverer, submit: Submit, enterprise_name: Callable[[str], str]) -> None:
        self._ledger = ledger
        self._deliverer = deliverer
        self._submit = submit
        self._enterprise_name = enterprise_name

    def stage(self, enterprise: str, change: NotifiedChange, urgent: bool) -> None:
        """Record ``change`` as due on every channel that wants it; it is submitted once that is committed."""
        alarm_id, version = change.key
        body = change.json_bytes()
        rows = [(alarm_id, version, channel.key, enterprise, body) for channel in self._deliverer.channels
                if self._deliverer.wants(channel, change.tier)]
        if rows:
            self._ledger.stage_outbox(rows, lambda: self._submit(enterprise, change, urgent))

    async def settled(self, channel_key: str, notification: Notification) -> None:
        """Delivered or dead-lettered on ``channel_key``: no restart sends it there again."""
        await self._ledger.outbox_done([(*change.key, channel_key) for change in notification.changes])

    async def resume(self) -> int:
        """Send again what a crash left due; returns how many notifications were queued."""
        queued = 0
        for alarm_id, version, channel_key, enterprise, body in await self._ledger.outbox():
            notification = Notification(enterprise, self._enterprise_name(enterprise), [NotifiedChange.from_json(body)])
            if self._deliverer.send_to(channel_key, notification):
                queued += 1
            else:
                log.warning("notification due on a channel no longer configured, kept in the outbox",
                            extra={"alarm": alarm_id, "version": version, "channel": channel_key.split(" ", 1)[0]})
        if queued:
            log.warning("notifications due at the last stop sent again", extra={"notifications": queued})
        return queued
