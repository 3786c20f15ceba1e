"""The alerting process: folds the alarm log, escalates, notifies, feeds the API and the recorder.

One :class:`AlertingService` per process. The alarm path (a folded transition → notification) only
queues work: InfluxDB lines go onto ``hazmon.series.v1`` for the recorder (alerting writes no
InfluxDB), notifications to the ledger's outbox and, once it is committed, to the channel workers,
Grafana annotations to their own tasks; nothing on it waits for InfluxDB.
"""

from __future__ import annotations

import asyncio
import logging

from hazmon.topics import PlatformTopics
from hazmon.kafka_topics import ensure_topics
from hazmon.registry import Registry, SiteKind
from hazmon.registry.names import point_name
from hazmon.registry.watch import RegistryWatch
from hazmon.settings import Settings
from hazmon.wire import AlarmAction

from alerting import lineproto
from alerting.book import AlarmBook, Suppression
from alerting.change_topic import ChangeTopic
from alerting.clock import Clock, SystemClock
from alerting.desk.assessment_series import AssessmentSeries
from alerting.desk.feed import AlarmFeed
from alerting.desk.readings import Readings
from alerting.escalation import due_escalations
from alerting.grafana import GrafanaAnnotator
from alerting.kafka_log import AlarmLog
from alerting.ledger import Ledger
from alerting.model import ESCALATION_PREFIX, Alarm, AlarmEvent
from alerting.notify.delivery import Channel, Deliverer
from alerting.notify.message import Notification, NotifiedChange
from alerting.notify.outbox import Outbox
from alerting.notify.storm import StormControl
from alerting.pipeline_metrics import AlertingMetrics
from alerting.risk_tracker import RiskTracker
from alerting.series_times import SeriesTimes
from alerting.series_topic import SeriesTopic
from alerting.text import Texts

log = logging.getLogger(__name__)
ACTION_TIMEOUT_S = 15.0
STOP_DRAIN_S = 10.0   # at a stop, how long notifications under way may take; the outbox keeps the rest
DAY_REPORT_MAX = 100_000   # closed alarms of one day the daily report and the 考核指标 read from the ledger


def channels_of(settings: Settings) -> list[Channel]:
    robot = settings.alerting_robot_msgtype
    return ([Channel("webhook", url) for url in settings.alerting_webhooks]
            + [Channel(f"dingtalk_{robot}", url) for url in settings.alerting_dingtalk_urls]
            + [Channel(f"wecom_{robot}", url) for url in settings.alerting_wecom_urls]
            + [Channel(str(c["format"]), str(c["url"]), int(c.get("min_tier", 0)),
                       secret=str(c["secret"]) if c.get("secret") else None) for c in settings.alerting_channels])


def suppression_json(suppression: Suppression) -> dict:
    return {"enterprise": suppression.enterprise, "point": suppression.point, "reason": suppression.reason,
            "by": suppression.by, "since": suppression.since, "expires_at": suppression.expires_at}


class AlertingService:
    def __init__(self, settings: Settings, registry: Registry, *, clock: Clock | None = None) -> None:
        names = PlatformTopics.of(settings)
        self.settings = settings
        self.registry = registry
        self.names = names
        self.clock = clock or SystemClock()
        self.texts = Texts(settings.language)
        self.book = AlarmBook(self.texts)
        self.registry_watch = RegistryWatch(settings.registry_dir, registry)
        self.registry_watch.listeners.append(self.set_registry)
        self.set_registry(registry)
        self.risk = RiskTracker(self.book, self.site_kind_of)
        self.ledger = Ledger(settings.ledger_path)
        # records for other stages are kept in the ledger until Kafka acknowledged them (Ledger.stage_unsent)
        self.series = SeriesTopic(settings.kafka_bootstrap, names.series, self.ledger)
        self.alarm_times = SeriesTimes()
        self.log = AlarmLog(settings.kafka_bootstrap, names, self.book, self.ledger, self._on_event, self._on_folded)
        self.changes = ChangeTopic(settings.kafka_bootstrap, names.changes, self.ledger)
        self.deliverer = Deliverer(channels_of(settings), self.texts, settings.alerting_retry_s,
                                   settings.alerting_deadletter_file or settings.home / "alerting" / "deadletter.jsonl",
                                   queue_max=settings.alerting_notify_queue_max, settled=self._notification_settled,
                                   duty_mobiles=settings.alerting_duty_mobiles)
        self.storm = StormControl(settings.alerting_group_window_s, self.deliverer.send, self.enterprise_name)
        self.outbox = Outbox(self.ledger, self.deliverer, self.storm.submit, self.enterprise_name)
        self.grafana = GrafanaAnnotator(settings.grafana_url, settings.grafana_token) if settings.grafana_url else None
        self.public_url = settings.alerting_public_url or f"http://{settings.api_host}:{settings.api_port}"
        self._delays_ms = (int(settings.alerting_escalate_county_s * 1000), int(settings.alerting_escalate_prefecture_s * 1000))
        self.metrics = AlertingMetrics(self.series, self.log, self.clock.now_ms)
        self.feed = AlarmFeed()
        self.readings = Readings(settings.influx_url, settings.influx_headers, settings.influx_db)
        self.assessment = AssessmentSeries(self.alarms_started, lambda: self.registry, self.readings,
                                           lambda: self.texts.language, self.series.submit, self.clock.now_ms)
        self._next_snapshot_ms: int | None = None   # the first snapshot one interval after the first tick
        self._tasks: list[asyncio.Task] = []
        self._side_tasks: set[asyncio.Task] = set()

    # --- the registry (reloaded while running) --------------------------------------------

    def set_registry(self, registry: Registry) -> None:
        """Use ``registry`` from now on: site names and kinds, the enterprises that are snapshotted and
        whose tokens are valid. Alarms of a removed enterprise stay in the book and the ledger (named by id)."""
        self.registry = registry
        self._site_kinds = {(e, site.id): site.kind for e, doc in registry.enterprises.items() for site in doc.sites}
        self._site_names = {(e, site.id): site.name for e, doc in registry.enterprises.items() for site in doc.sites}
        self._ponds = [key for key, kind in self._site_kinds.items() if kind is SiteKind.TAILINGS_POND]

    # --- registry look-ups ---------------------------------------------------------------

    def site_kind_of(self, enterprise: str, site: str) -> SiteKind | None:
        return self._site_kinds.get((enterprise, site))

    def suppression_of(self, alarm: Alarm) -> dict | None:
        """The suppression (屏蔽) in force on ``alarm`` now, as the API shows it."""
        suppression = self.book.suppression_at(alarm, self.clock.now_ms())
        return None if suppression is None else suppression_json(suppression)

    def place_of(self, alarm: Alarm) -> str:
        """The alarm's site and point as officers read them (§10, ``point_name``: never an id); a voting group's
        or a device's alarm by its site alone (its message names the group or device)."""
        site = self._site_names.get((alarm.enterprise, alarm.site), alarm.site)
        entry = self.registry.point(alarm.enterprise, alarm.point)
        return site if entry is None else f"{site} {point_name(self.registry, entry, self.texts.language)}"

    def enterprise_name(self, enterprise: str) -> str:
        doc = self.registry.enterprises.get(enterprise)
        return doc.enterprise.name if doc is not None else enterprise

    async def alarms_started(self, start_ms: int, end_ms: int) -> list[Alarm]:
        """The alarms, open and closed (from the ledger), that started in ``[start_ms, end_ms)``."""
        in_memory = [a for a in self.book.newest_first() if start_ms <= a.started_at < end_ms]
        seen = {a.id for a in in_memory}
        stored = await self.ledger.closed_page(None, start_ms, (end_ms, ""), DAY_REPORT_MAX)
        return in_memory + [a for a in stored if a.id not in seen]

    # --- lifecycle -------------------------------------------------------------------------

    async def start(self) -> None:
        partitions = await ensure_topics(self.settings, [self.names.transitions, self.names.actions,
                                                         self.changes.topic, self.series.topic])
        await self.ledger.open()
        await self.series.start()   # the senders queue first what the last process left unacknowledged
        await self.deliverer.start()
        await self.outbox.sweep()   # what the last process left due
        await self.changes.start()
        await self.log.start(partitions)
        self.series.submit(self.risk.restore(self.clock.now_ms()))
        self._tasks = [asyncio.create_task(self.log.run(), name="alarm-log"),
                       asyncio.create_task(self._tick_loop(), name="alarm-ticks"),
                       asyncio.create_task(self._sweep_loop(), name="outbox-sweep"),
                       asyncio.create_task(self.registry_watch.watch(self.settings.alerting_registry_poll_s),
                                           name="registry-watch"),
                       asyncio.create_task(self.metrics.run(self.settings.alerting_metrics_s), name="pipeline-metrics"),
                       asyncio.create_task(self.assessment.run(self.settings.desk_assessment_s), name="assessment-series")]
        for task in self._tasks:
            task.add_done_callback(self._log_crash)

    def dead_tasks(self) -> list[str]:
        """Names of the process's loops that have stopped (a crashed one is also logged with its error),
        the notification workers included."""
        return [task.get_name() for task in self._tasks + self.deliverer.tasks if task.done()]

    @staticmethod
    def _log_crash(task: asyncio.Task) -> None:
        if not task.cancelled() and task.exception() is not None:
            log.error("alerting loop stopped", exc_info=task.exception(), extra={"task": task.get_name()})

    async def caught_up(self, timeout_s: float = 60.0) -> None:
        async with asyncio.timeout(timeout_s):
            await self.log.caught_up.wait()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self.storm.flush()
        try:
            async with asyncio.timeout(STOP_DRAIN_S):
                await self.deliverer.drain()
        except TimeoutError:
            log.warning("notifications still due at stop, kept in the outbox for the next start")
        await asyncio.gather(*self._side_tasks, return_exceptions=True)
        await self.deliverer.close()
        await asyncio.gather(self.changes.stop(), self.series.stop())
        await self.ledger.write_unsent()   # what the senders queued and Kafka acknowledged since the log's last write
        await self.log.stop()
        await self.ledger.close()

    # --- what happens on a change ----------------------------------------------------------

    def _on_event(self, event: AlarmEvent, live: bool) -> None:
        alarm = event.alarm
        written_at = self.alarm_times.claim(lineproto.alarm_series(alarm), event.ts)
        self.series.submit([lineproto.alarm_line(alarm, event.kind, written_at, event.by)])
        self.risk.changed(alarm.enterprise, event.ts)   # the colour: once per batch (_on_folded)
        log.info("alarm changed", extra={"alarm": alarm.id, "enterprise": alarm.enterprise, "point": alarm.point,
                                         "change": event.kind, "state": alarm.state, "live": live})
        if live:
            self.feed.publish(alarm, event.kind)   # the desk's open pages (alerting/desk/feed.py)
        if not live and not self.ledger.resumed:
            return  # the whole history replayed into a new ledger: its notifications went out when it happened
        # live, or the tail since the ledger's offsets: never committed, so never notified (sent only after commit)
        self.changes.submit(event, alarm.to_json(self.suppression_of(alarm)))   # for the uplink; a tail's may repeat
        if event.notify and not self.book.is_suppressed(alarm, event.ts):
            urgent = alarm.rule == "fire" or event.kind.startswith(ESCALATION_PREFIX)   # never held by grouping
            self.outbox.stage(alarm.enterprise, NotifiedChange.of(event, self.public_url, self.place_of(alarm)), urgent)
        if event.annotate and self.grafana is not None:
            task = asyncio.create_task(self.grafana.annotate(alarm, event.ts))
            self._side_tasks.add(task)
            task.add_done_callback(self._side_tasks.discard)

    def _on_folded(self) -> None:
        """After each folded batch: the colours its changes moved."""
        lines = self.risk.flush()
        if lines:
            self.series.submit(lines)

    async def _notification_settled(self, channel_key: str, notification: Notification) -> None:
        await self.outbox.settled(channel_key, notification)

    async def tick(self) -> None:
        """Escalate what is due, age the risk colours and, every ``alerting_risk_snapshot_s``, write
        every colour and desk alarm again, at the injected clock's time."""
        if not self.log.caught_up.is_set():
            return
        now_ms = self.clock.now_ms()
        for action in due_escalations(self.book, now_ms, self._delays_ms):
            log.info("escalating", extra={"alarm": action["alarm"], "tier": action["tier"]})
            await self.log.publish(action)
        self.series.submit(self.risk.age(now_ms))
        interval_ms = int(self.settings.alerting_risk_snapshot_s * 1000)
        if self._next_snapshot_ms is None:
            self._next_snapshot_ms = now_ms + interval_ms
        elif now_ms >= self._next_snapshot_ms:
            self.series.submit(self.risk.snapshot(now_ms, self.registry.enterprises, self._ponds))
            self._next_snapshot_ms = now_ms + interval_ms

    async def _sweep_loop(self) -> None:
        """Every last back-off step (at least two grouping windows): queue again what a full lane left in the outbox."""
        period_s = max(self.settings.alerting_retry_s[-1] if self.settings.alerting_retry_s else 1.0,
                       2 * self.settings.alerting_group_window_s, 1.0)
        while True:
            await asyncio.sleep(period_s)
            await self.outbox.sweep()

    async def _tick_loop(self) -> None:
        while True:
            await asyncio.sleep(1.0)
            try:
                await self.tick()
            except Exception:  # noqa: BLE001 - Kafka hiccup: the next tick tries again
                log.exception("tick failed")

    # --- officers' actions (from the API) ----------------------------------------------------

    async def act(self, action: AlarmAction) -> Alarm | None:
        """Publish an action and return the alarm once this instance folded it; ActionRefused if not allowed."""
        self.book.check_action(action)
        applied = self.log.applied(action["action_id"])
        await self.log.publish(action)
        async with asyncio.timeout(ACTION_TIMEOUT_S):
            return await applied
