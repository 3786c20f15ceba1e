"""A webhook receiver down for longer than any retry budget (an hour, shortened here by the settings:
retries after 0.2 and 0.4 s, an outage of 4 s) still gets every confirmed alarm once it is back, and
while it is down the backlog waits on disk (the ledger's outbox), not in memory beyond a bound.

Before, a notification was dead-lettered once its retries were spent (``alerting_retry_s``: 36 s with the
defaults) and its outbox row deleted, and one finding its lane full was dead-lettered at once: after an
hour's outage, the hour's alarms were in the dead-letter file, never delivered (0 of 5 here). Now a
transient failure is retried at the last back-off until the receiver takes it, and a full lane leaves
the notification in the outbox, which a periodic sweep queues again.
"""

from __future__ import annotations

import asyncio


from hazmon.settings import Settings

from hazmon.topics import PlatformTopics
from testbed.alerting import T0, Receiver, eventually, transition
from testbed.faults.proxy import Proxy

OUTAGE_ALARMS = ("TK01_LT", "TK01_TT", "TK01_PT", "WK01_WL", "WK01_DS1")


async def test_every_alarm_of_a_long_outage_is_delivered_when_the_receiver_is_back(
        start_service, produce, names: PlatformTopics, alerting_settings: Settings, receiver: Receiver) -> None:
    proxy = Proxy("127.0.0.1", int(receiver.url.rsplit(":", 1)[1]))   # down: nothing listens on its port
    settings = alerting_settings.model_copy(update={
        "alerting_webhooks": [f"{proxy.url}/webhook"], "alerting_dingtalk_urls": [], "alerting_wecom_urls": [],
        "alerting_retry_s": (0.2, 0.4), "alerting_group_window_s": 0.0, "alerting_notify_queue_max": 2})
    service = await start_service(settings=settings)

    def delivered() -> set[str]:
        return {c["alarm"]["id"] for b in receiver.bodies for c in b["changes"] if c["kind"] == "confirmed"}

    for n, point in enumerate(OUTAGE_ALARMS):
        await produce(names.transitions, [transition(f"long-{n}", "raised", point, at=T0),
                                          transition(f"long-{n}", "confirmed", point, at=T0 + 1000)])
    want = {f"long-{n}" for n in range(len(OUTAGE_ALARMS))}
    try:
        await asyncio.sleep(4.0)   # every retry budget spent many times over
        assert max(w.queued for w in service.deliverer.workers) <= 2   # memory: the lane's bound, the rest on disk
        await proxy.up()
        await eventually(lambda: delivered() == want, 30, "every alarm of the outage delivered after it")
    finally:
        await proxy.down()
