"""A Kafka broker of a three-broker cluster SIGKILLed under load, restarted later: no reading lost,
ingest and the rules moving again within 30 s, alarms raised and notified while it is dead.

The cluster is the module's own (testbed/faults/cluster.py: the stack's nodes on free ports); ingest, a
rules worker and alerting run on it (testbed/pipeline.py), devices publish over the shared Mosquitto,
and the broker killed is the one leading the most partitions of the readings topic. The scenario runs
once; each test checks a part of what it measured.
"""

from __future__ import annotations

import asyncio
import contextlib
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from hazmon.registry import load_registry
from hazmon.settings import PACKAGE_DIR, Settings
from hzctl.stack.mosquitto import register_enterprises
from device_sim.county import county_with_sample
from testbed.alerting import Receiver, eventually
from testbed.pipeline import IsolatedPipeline
from testbed.faults.cluster import Cluster
from testbed.faults.feed import Feed, progress, settled_losses
from testbed.faults.kafka_watch import TopicWatch
from testbed.kafka_admin import unique_name

pytestmark = pytest.mark.servers
ENTERPRISES = 30
CONNECTIONS = 12
MESSAGES_PER_S = 30.0
BEFORE_S, DEAD_S, AFTER_S = 15.0, 40.0, 10.0
RECOVERY_GOAL_S = 30.0


def notified(receiver: Receiver) -> list[str]:
    """point@enterprise of every confirmation the webhook received, repeats kept."""
    return [f"{c['alarm']['point']}@{c['alarm']['enterprise']}" for body in receiver.bodies for c in body["changes"]
            if c["kind"] == "confirmed"]


async def kill_one_broker(settings: Settings, root: Path) -> dict:
    """The scenario: what was lost, how long each part stalled, which alarms were notified while the broker was dead."""
    cluster = Cluster(settings, root / "cluster")
    receiver = await Receiver().start()
    county_dir = county_with_sample(root, ENTERPRISES, 20, PACKAGE_DIR / "sample_registry")
    secrets = await asyncio.to_thread(register_enterprises, settings, county_dir)
    feed = Feed(settings, secrets, county_dir, CONNECTIONS, MESSAGES_PER_S)
    stop = asyncio.Event()
    try:
        await asyncio.to_thread(cluster.start)
        run = IsolatedPipeline(cluster.clients(settings), root / "home", county_dir, unique_name(), secrets.duty_token,
                               (f"{receiver.url}/webhook",), enterprises=tuple(load_registry(county_dir).enterprises))
        run.env.update(cluster.env)
        try:
            await run.start()
            feeding = asyncio.create_task(feed.run(stop))
            await asyncio.sleep(BEFORE_S)
            async with TopicWatch(cluster.settings.kafka_bootstrap, run.names.readings) as watch:
                busy = await watch.busy(3.0)
                leaders = list((await watch.leaders()).values())
                victim = cluster.nodes[max(set(leaders), key=leaders.count) - 1]
                victim.process.signal(signal.SIGKILL)
                killed = time.monotonic()
                progress(f"broker {victim.node} killed")
                ingest_s, rules_s = await asyncio.gather(
                    watch.all_moved(killed, busy, timeout_s=DEAD_S),
                    watch.all_moved(killed, busy, run.env["HAZMON_RULES_APP_ID"], timeout_s=DEAD_S))
                await asyncio.sleep(max(0.0, DEAD_S - (time.monotonic() - killed)))
                # injected while the broker was dead, early enough to be notified before it came back
                dead_alarms = {k for k, at in feed.alarms.items() if killed <= at <= killed + DEAD_S - 10}
                notified_while_dead = set(notified(receiver)) & dead_alarms
                progress(f"ingest moving after {ingest_s} s, rules after {rules_s} s; restarting broker {victim.node}")
                await asyncio.to_thread(cluster.restart, victim)
            await asyncio.sleep(AFTER_S)
            stop.set()
            await feeding
            figures = await settled_losses(run, feed)
            with contextlib.suppress(AssertionError):   # counted below
                await eventually(lambda: set(feed.alarms) <= set(notified(receiver)), 60)
            got = notified(receiver)
            result = {**figures, "partitions_busy": len(busy), "ingest_recovery_s": ingest_s, "rules_recovery_s": rules_s,
                      "alarms_injected": len(feed.alarms), "alarms_dead": sorted(dead_alarms),
                      "notified_while_dead": sorted(notified_while_dead),
                      "notifications_lost": len(set(feed.alarms) - set(got)),
                      "notifications_repeated": len(got) - len(set(got))}
            progress(f"broker {victim.node} killed: {result}")
            return result
        finally:
            stop.set()
            await feed.close()
            await asyncio.to_thread(run.supervisor.stop_all)
            await run.drop_database()
    finally:
        await asyncio.to_thread(cluster.stop)
        await receiver.stop()


@pytest.fixture(scope="module")
def broker_death(settings: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict]:
    with ThreadPoolExecutor(1) as pool:   # a loop of its own: pytest-asyncio's is per test
        yield pool.submit(asyncio.run, kill_one_broker(settings, tmp_path_factory.mktemp("broker-death"))).result()


def test_no_acknowledged_reading_is_lost_and_ingest_goes_on(mosquitto: Settings, kafka: str, influxdb: Settings,
                                                            broker_death: dict) -> None:
    assert broker_death["readings_acked"] > 0 and broker_death["partitions_busy"] > 0
    assert broker_death["readings_lost"] == 0, broker_death
    assert broker_death["ingest_recovery_s"] is not None and broker_death["ingest_recovery_s"] < RECOVERY_GOAL_S, broker_death


def test_every_alarm_is_notified_once(mosquitto: Settings, kafka: str, influxdb: Settings, broker_death: dict) -> None:
    assert broker_death["alarms_injected"] > 0
    assert broker_death["notifications_lost"] == 0, broker_death
    assert broker_death["notifications_repeated"] == 0, broker_death


def test_the_rules_go_on_while_the_broker_is_dead(mosquitto: Settings, kafka: str, influxdb: Settings,
                                                  broker_death: dict) -> None:
    assert broker_death["rules_recovery_s"] is not None and broker_death["rules_recovery_s"] < RECOVERY_GOAL_S, broker_death
    assert broker_death["alarms_dead"] and broker_death["notified_while_dead"] == broker_death["alarms_dead"], broker_death
