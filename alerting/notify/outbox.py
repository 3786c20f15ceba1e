"""The notification outbox: every notification due is recorded in the ledger before it is sent.

A change that calls for a notification is staged, one row per channel that wants it, in the ledger
transaction that records the change (``Ledger.stage_outbox``); only after that commit does it go to
storm control and the channel workers. A delivery (or a refusal for good, dead-lettered) deletes the
row. ``sweep`` queues again, each change alone, with the same alarm id and version as before (a
receiver can fold a rare repeat), every row in no lane: at start what a crash left, and then
periodically what a full lane could not take during a long outage.
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
        self._unheld_before: set[tuple[str, int, str]] | None = None   # None: no sweep yet (at start: all is due)

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

    async def sweep(self) -> int:
        """Queue every notification due and in no lane (one a crash left, one a full lane could not take);
        returns how many were queued. After the first sweep, a row is queued only when the sweep before
        found it in no lane too: a change storm control is still grouping is in no lane for a moment."""
        queued = 0
        unheld: set[tuple[str, int, str]] = set()
        for alarm_id, version, channel_key, enterprise, body in await self._ledger.outbox():
            if self._deliverer.holds(channel_key, (alarm_id, version)):
                continue
            unheld.add((alarm_id, version, channel_key))
            if self._unheld_before is not None and (alarm_id, version, channel_key) not in self._unheld_before:
                continue
            notification = Notification(enterprise, self._enterprise_name(enterprise), [NotifiedChange.from_json(body)])
            if self._deliverer.send_to(channel_key, notification):
                queued += 1
            else:
                log.warning("notification due on a channel no longer configured, kept in the outbox",
                            extra={"alarm": alarm_id, "version": version, "channel": channel_key.split(" ", 1)[0]})
        self._unheld_before = unheld
        if queued:
            log.warning("notifications due and in no lane queued again", extra={"notifications": queued})
        return queued
