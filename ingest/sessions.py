"""The adapter's broker sessions, following the registry (``ingest.session_plan``): one receiving
task per session, started when its enterprise (or shard) appears, ended when it goes.

Every session is one aiomqtt client (paho-mqtt inside, read from this event loop: no thread per
client) on a link of its own (``ingest.mqtt_link``), with its own bound on unacknowledged messages
and one budget for all. The event loop reads one packet per readable socket in turn, so sessions
are read round-robin: a session with a deep backlog gets no more turns than a quiet one.

A session whose enterprise left the registry is ended: its task stops, and the broker is told to
forget the session and its queue (clean start, no expiry). An enterprise that left a shard is
unsubscribed when the shard's session connects again with its new members.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from functools import partial

import aiomqtt

from hazmon.settings import Settings
from ingest.mqtt_frames import Message
from ingest.mqtt_link import InFlightBudget, MqttLink, end_session, ingest_link
from ingest.session_plan import SessionPlan, plan_sessions

log = logging.getLogger(__name__)

Take = Callable[[MqttLink, SessionPlan, Message], Awaitable[None]]


class SessionPool:
    """Connected sessions for the registry's enterprises; ``connected`` is set while every one of
    them is subscribed, ``failed`` once a session's task failed other than by losing its connection
    (``failure``)."""

    def __init__(self, settings: Settings, take: Take) -> None:
        self._settings = settings
        self._take = take
        self.budget = InFlightBudget.from_settings(settings)
        self._plans: dict[str, SessionPlan] = {}
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._of: dict[str, str] = {}                # enterprise → its session's name
        self._left: dict[str, frozenset[str]] = {}  # session → enterprises to unsubscribe from when it connects
        self._subscribed: set[str] = set()
        self._endings: set[asyncio.Task[None]] = set()
        self.links: dict[str, MqttLink] = {}
        self.connected = asyncio.Event()
        self.failed = asyncio.Event()
        self.failure: BaseException | None = None

    def apply(self, enterprises: frozenset[str]) -> None:
        """Hold exactly the sessions of ``enterprises`` (those of ``ingest_enterprises`` if it names any)."""
        chosen = self._settings.ingest_enterprises
        wanted = plan_sessions(sorted(enterprises & set(chosen) if chosen else enterprises),
                               self._settings.ingest_session_shards)
        for name in self._plans.keys() - wanted.keys():
            self._end(name)
        for name, plan in wanted.items():
            old = self._plans.get(name)
            if old == plan:
                continue
            previous = None
            if old is not None:  # a shard whose members changed: connect again with the new ones
                self._left[name] = self._left.get(name, frozenset()) | (old.enterprises - plan.enterprises)
                previous = self._tasks.pop(name)
                previous.cancel()
                self._subscribed.discard(name)
            self._plans[name] = plan
            self._start(plan, previous)
        self._of = {e: name for name, plan in self._plans.items() for e in plan.enterprises}
        self._update_connected()
        log.info("mqtt sessions", extra={"sessions": len(self._plans), "enterprises": len(self._of)})

    def link_for(self, enterprise: str) -> MqttLink | None:
        """The connected link of ``enterprise``'s session, if any."""
        name = self._of.get(enterprise)
        return self.links.get(name) if name is not None else None

    async def close(self) -> None:
        """Stop every session's task (the sessions stay at the broker) and wait for the ended ones."""
        tasks = [*self._tasks.values(), *self._endings]
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    def _start(self, plan: SessionPlan, previous: asyncio.Task[None] | None) -> None:
        task = asyncio.create_task(self._run(plan, previous), name=f"ingest-session-{plan.name}")
        task.add_done_callback(self._task_done)
        self._tasks[plan.name] = task

    def _task_done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled() and task.exception() is not None:
            self.failure = task.exception()
            self.failed.set()

    def _end(self, name: str) -> None:
        plan = self._plans.pop(name)
        task = self._tasks.pop(name)
        task.cancel()
        self._subscribed.discard(name)
        self._left.pop(name, None)
        ending = asyncio.create_task(self._forget(plan, task))
        self._endings.add(ending)
        ending.add_done_callback(self._endings.discard)

    async def _forget(self, plan: SessionPlan, task: asyncio.Task[None]) -> None:
        await asyncio.gather(task, return_exceptions=True)
        try:
            await end_session(self._settings, plan)
        except aiomqtt.MqttError as exc:  # the session expires by itself (ingest_session_expiry_s)
            log.warning("mqtt session not ended", extra={"session": plan.name, "error": str(exc)})
            return
        log.info("mqtt session ended: its enterprises left the registry", extra={"session": plan.name})

    async def _run(self, plan: SessionPlan, previous: asyncio.Task[None] | None) -> None:
        if previous is not None:  # the same client id: the old connection must be gone first
            await asyncio.gather(previous, return_exceptions=True)
        while True:
            try:
                async with ingest_link(self._settings, plan, self.budget, self._left.get(plan.name, frozenset())) \
                        as link:
                    self.links[plan.name] = link
                    link.subscribed.add_done_callback(partial(self._on_subscribed, plan.name))
                    async for message in link:
                        await self._take(link, plan, message)
            except aiomqtt.MqttError as exc:
                self._subscribed.discard(plan.name)
                self._update_connected()
                log.warning("mqtt connection lost, reconnecting", extra={"session": plan.name, "error": str(exc)})
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise asyncio.CancelledError from exc   # a stop met the failure (a disconnect's error replaced it): no retry
                await asyncio.sleep(self._settings.ingest_retry_s)
            finally:
                self.links.pop(plan.name, None)

    def _on_subscribed(self, name: str, subscribing: asyncio.Task[None]) -> None:
        if subscribing.cancelled() or subscribing.exception() is not None or name not in self._plans:
            return
        self._left.pop(name, None)
        self._subscribed.add(name)
        self._update_connected()

    def _update_connected(self) -> None:
        if self._subscribed >= self._plans.keys():
            if not self.connected.is_set():
                log.info("mqtt connected and subscribed", extra={
                    "instance": self._settings.ingest_instance, "sessions": len(self._plans)})
            self.connected.set()
        else:
            self.connected.clear()
