"""Keeps each enterprise's and each tailings pond's last written colour, and says when it changed.

Colours are evaluated once per folded batch for each enterprise whose alarms changed in it, at the
time of its last change in the batch (a transition's or action's own timestamp), and on each clock
tick for first-level alarms turning 30 minutes old, stamped with the moment they turned. Once per
batch, not per change: evaluating an enterprise's colour visits all its open alarms, so a start that
replays 10 000 open alarms of a few enterprises change by change took 38–90 s (quadratic). A replay
folds its history in the same slices every time, so the same log gives the same ``enterprise_risk``
points on every replay (fewer than live: a slice holds more changes than a live batch).
Every ``alerting_risk_snapshot_s`` the service also writes a snapshot: every enterprise's and pond's
colour and every alarm still on the desk, so that dashboards reading only the last minutes find them
however old they are.
"""

from __future__ import annotations

from collections.abc import Iterable

from hazmon.wire import PLATFORM_ENTERPRISE

from alerting import lineproto
from alerting.book import AlarmBook
from alerting.model import FIRST_LEVELS
from alerting.risk import FIRST_LEVEL_AGE_MS, RiskColor, SiteKindOf, enterprise_risk, pond_colors


class RiskTracker:
    def __init__(self, book: AlarmBook, site_kind_of: SiteKindOf) -> None:
        self._book = book
        self._site_kind_of = site_kind_of
        self.enterprises: dict[str, RiskColor] = {}
        self.ponds: dict[tuple[str, str], RiskColor] = {}
        self._written_at: dict[str, int] = {}
        self._aged_to = 0                     # first-level alarms turning 30 min old up to here were looked at
        self._changed: dict[str, int] = {}    # enterprise → its last change's time in the batch being folded

    def current(self, enterprise: str) -> RiskColor:
        return self.enterprises.get(enterprise, RiskColor(0, 0))

    def ponds_of(self, enterprise: str) -> dict[str, RiskColor]:
        return {site: color for (ent, site), color in self.ponds.items() if ent == enterprise}

    def changed(self, enterprise: str, ts: int) -> None:
        """Note that ``enterprise``'s alarms changed at ``ts``; :meth:`flush` evaluates its colour once for the batch."""
        self._changed[enterprise] = ts

    def flush(self) -> list[str]:
        """InfluxDB lines for the colours the noted changes moved, each evaluated at its enterprise's last change."""
        lines: list[str] = []
        for enterprise, ts in self._changed.items():
            lines += self.update(enterprise, ts)
        self._changed.clear()
        return lines

    def update(self, enterprise: str, ts: int) -> list[str]:
        """InfluxDB lines for what changed in ``enterprise``'s colours as of ``ts`` (the platform's own
        alarms colour no enterprise)."""
        if enterprise == PLATFORM_ENTERPRISE:
            return []
        alarms = self._book.of_enterprise(enterprise)
        lines: list[str] = []
        risk = enterprise_risk(alarms, self._site_kind_of, ts)
        if risk != self.current(enterprise):
            self.enterprises[enterprise] = risk
            self._written_at[enterprise] = ts
            lines.append(lineproto.enterprise_risk_line(enterprise, risk, ts))
        now_ponds = pond_colors(alarms, self._site_kind_of)
        for key in set(now_ponds) | set(self.ponds_of_keys(enterprise)):
            color = now_ponds.get(key, RiskColor(0, 0))
            if color != self.ponds.get(key, RiskColor(0, 0)):
                self.ponds[key] = color
                lines.append(lineproto.site_risk_line(key[0], key[1], color, ts))
        return lines

    def restore(self, now_ms: int) -> list[str]:
        """After a restart from the ledger: every enterprise's colour as of ``now_ms``, written once."""
        lines: list[str] = []
        for enterprise in {a.enterprise for a in self._book.alarms.values()}:
            lines += self.update(enterprise, now_ms)
        return lines

    def snapshot(self, now_ms: int, enterprises: Iterable[str], ponds: Iterable[tuple[str, str]]) -> list[str]:
        """Lines of the current colour of every enterprise and tailings pond given (and any other with a
        colour), and of every alarm on the desk (open or 待反馈) as it stands, all stamped ``now_ms``."""
        lines = [lineproto.enterprise_risk_line(e, self.current(e), now_ms)
                 for e in sorted(set(enterprises) | set(self.enterprises))]
        lines += [lineproto.site_risk_line(e, site, self.ponds.get((e, site), RiskColor(0, 0)), now_ms)
                  for e, site in sorted(set(ponds) | set(self.ponds))]
        lines += [lineproto.alarm_line(alarm, "snapshot", now_ms, None) for alarm in self._book.alarms.values()
                  if alarm.is_open or (alarm.awaiting_feedback and alarm.closed_at is None)]
        return lines

    def ponds_of_keys(self, enterprise: str) -> list[tuple[str, str]]:
        return [key for key in self.ponds if key[0] == enterprise]

    def age(self, now_ms: int) -> list[str]:
        """Lines for enterprises whose first-level alarms turned 30 minutes old since the last change
        and the last call, each stamped with the first such moment.

        It runs every second and the API waits while it does: one pass over the alarms, and an alarm
        that turned before the last call is not looked at again (it changed the colour then, or the
        colour was already as bad; any later change of the enterprise is evaluated at its own time,
        ageing included)."""
        turned: dict[str, int] = {}
        written_at, aged_to = self._written_at, self._aged_to
        for alarm in self._book.alarms.values():
            mark = alarm.started_at + FIRST_LEVEL_AGE_MS
            if mark > now_ms or mark <= aged_to or alarm.level not in FIRST_LEVELS or not alarm.is_open:
                continue
            enterprise = alarm.enterprise
            if written_at.get(enterprise, 0) < mark < turned.get(enterprise, now_ms + 1):
                turned[enterprise] = mark
        self._aged_to = max(aged_to, now_ms)
        lines: list[str] = []
        for enterprise, mark in turned.items():
            lines += self.update(enterprise, mark)
        return lines
