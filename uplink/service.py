"""The uplink process: one connection to the upper broker at a time, and on it the forwarding of alarm
changes, the down actions, the registry summary, the risk colours and the heartbeat; when the link (or
Kafka) fails, all of it starts again on the next connection after ``uplink_retry_s`` (docs/uplink.md)."""

from __future__ import annotations

import asyncio
import logging
import time
from functools import partial

import aiomqtt
from aiokafka import AIOKafkaProducer
from aiokafka.errors import KafkaError

from hazmon import wire
from hazmon.errors import UserError
from hazmon.exchange import down_action_topic, up_topic
from hazmon.kafka_topics import ensure_topics
from hazmon.topics import PlatformTopics
from hazmon.registry import Registry
from hazmon.registry.watch import RegistryWatch
from hazmon.settings import Settings

from uplink.alarms import AlarmChanges
from uplink.forwarder import Forwarder
from uplink.link import UpperLink, upper_link
from uplink.messages import DownRefused, down_action, heartbeat_message, registry_message
from uplink.readings import ReadingsUp
from uplink.risk import RiskForwarder

log = logging.getLogger(__name__)
REGISTRY_POLL_S = 5.0


def now_ms() -> int:
    return time.time_ns() // 1_000_000


class Uplink:
    def __init__(self, settings: Settings, registry: Registry) -> None:
        if settings.uplink_county_id is None:
            raise UserError("the uplink needs HAZMON_UPLINK_COUNTY_ID (the county's id on the upper platform)")
        self.settings = settings
        self.county_id = settings.uplink_county_id
        names = PlatformTopics.of(settings)
        self.changes_topic = names.changes
        self.actions_topic = names.actions
        self.alarm_changes = AlarmChanges(self.county_id)
        self.forwarder = Forwarder(settings, self.changes_topic, settings.uplink_group, up_topic(self.county_id, "alarm"),
                                   self.alarm_changes.bodies)
        self.readings_up = ReadingsUp(self.county_id, settings.uplink_readings_types, settings.uplink_readings_interval_s,
                                      registry)
        self.forwarders = [self.forwarder]
        if settings.uplink_readings_types:
            self.forwarders.append(Forwarder(settings, names.readings,
                                             f"{settings.uplink_group}-readings", up_topic(self.county_id, "readings"),
                                             self.readings_up.bodies))
        self.risk = RiskForwarder(settings, self.county_id)
        self.registry_watch = RegistryWatch(settings.registry_dir, registry)
        self._producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True,
                                          acks="all", linger_ms=0)
        self._link: UpperLink | None = None
        self.connections = 0   # connections made so far
        self.actions_applied = 0

    async def run(self) -> None:
        """Until cancelled: connect, serve, and after a failure connect again."""
        await ensure_topics(self.settings, [f.topic for f in self.forwarders] + [self.actions_topic])
        for forwarder in self.forwarders:
            await forwarder.start()
        await self._producer.start()
        self.registry_watch.listeners.append(self._registry_changed)
        watch = asyncio.create_task(self.registry_watch.watch(REGISTRY_POLL_S), name="registry-watch")
        try:
            while True:
                try:
                    async with upper_link(self.settings, self.county_id) as link:
                        self.connections += 1
                        log.info("upper link up", extra={"county": self.county_id, "host": self.settings.uplink_host,
                                                         "port": self.settings.uplink_port})
                        await self._serve(link)
                except* aiomqtt.MqttError as failures:
                    log.warning("upper link down", extra={"county": self.county_id,
                                                          "error": "; ".join(map(str, failures.exceptions))})
                except* KafkaError as failures:   # the round goes again from its first record
                    log.warning("kafka failed, connecting again", extra={"county": self.county_id,
                                                                        "error": "; ".join(map(str, failures.exceptions))})
                finally:
                    self._link = None
                if (task := asyncio.current_task()) is not None and task.cancelling():
                    raise asyncio.CancelledError   # a stop met the failure (a disconnect's MqttError replaced it): no retry
                await asyncio.sleep(self.settings.uplink_retry_s)
        finally:
            watch.cancel()
            await asyncio.gather(watch, return_exceptions=True)
            await self._producer.stop()
            for forwarder in self.forwarders:
                await forwarder.stop()

    async def _serve(self, link: UpperLink) -> None:
        self._link = link
        await link.client.subscribe(down_action_topic(self.county_id), qos=1)
        await link.publish(up_topic(self.county_id, "registry"),
                           registry_message(self.county_id, self.registry_watch.current, now_ms()))
        async with asyncio.TaskGroup() as group:
            tasks = [group.create_task(forwarder.run(link), name=f"forward {forwarder.topic}") for forwarder in self.forwarders]
            tasks.append(group.create_task(self._receive_down(link), name="down"))
            tasks.append(group.create_task(self._heartbeat(link), name="heartbeat"))
            tasks.append(group.create_task(self.risk.run(partial(link.publish, up_topic(self.county_id, "risk")),
                                                         lambda: self.registry_watch.current), name="risk"))
            # a failing task cancels this wait, and here Python 3.11's TaskGroup takes its cancel back; from its
            # exit it would not, and the run's task would seem cancelling() (stopping) ever after
            await asyncio.wait(tasks)

    async def _registry_changed(self, registry: Registry) -> None:
        self.readings_up.set_registry(registry)
        if self._link is None:
            return   # it goes up with the next connection
        try:
            await self._link.publish(up_topic(self.county_id, "registry"), registry_message(self.county_id, registry, now_ms()))
        except aiomqtt.MqttError as exc:   # the link is failing: the next connection sends the summary
            log.warning("registry summary not sent", extra={"county": self.county_id, "error": str(exc)})

    async def _heartbeat(self, link: UpperLink) -> None:
        while True:
            registry = self.registry_watch.current
            await link.publish(up_topic(self.county_id, "heartbeat"),
                               heartbeat_message(self.county_id, now_ms(), len(registry.enterprises), len(registry.points),
                                                 await self.forwarder.backlog()))
            await asyncio.sleep(self.settings.uplink_heartbeat_s)

    async def _receive_down(self, link: UpperLink) -> None:
        """Each upper action onto the alarm-actions topic, acknowledged to the upper broker once Kafka has it."""
        async for message in link.client.messages:
            payload = message.payload if isinstance(message.payload, bytes) else str(message.payload).encode()
            try:
                action = down_action(payload, now_ms(), self.alarm_changes.alarms)
            except DownRefused as refused:
                log.warning("upper action not applied", extra={"county": self.county_id, "topic": str(message.topic),
                                                               "reason": str(refused)})
            else:
                await self._producer.send_and_wait(self.actions_topic, wire.encode(action),
                                                   key=action["enterprise"].encode())
                self.actions_applied += 1
                log.info("upper action published", extra={"alarm": action["alarm"], "by": action["by"],
                                                          "action_id": action["action_id"]})
            link.ack(message)
