"""Notifications survive a crash of alerting: SIGKILL after an alarm is confirmed, before the webhook took it."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest

from hazmon.settings import Settings

from hazmon.topics import PlatformTopics
from testbed.alerting import T0, Receiver, eventually, transition
from tests.faults.child import AlertingChild


@pytest.fixture
def child(alerting_settings: Settings, names: PlatformTopics, tmp_path: Path,
          receiver: Receiver) -> Iterator[AlertingChild]:
    process = AlertingChild(alerting_settings, names, tmp_path / "child", [f"{receiver.url}/webhook"],
                            {"HAZMON_ALERTING_RETRY_S": "[30, 30]"})
    process.home.mkdir()
    yield process
    process.stop()


def delivered(receiver: Receiver, alarm_id: str) -> list[tuple[str, int, str]]:
    """(alarm id, version, change) of every change the webhook received about ``alarm_id``."""
    return [(c["alarm"]["id"], c["alarm"]["revision"], c["kind"]) for body in receiver.bodies for c in body["changes"]
            if c["alarm"]["id"] == alarm_id]


@pytest.mark.parametrize("signum", [signal.SIGKILL, signal.SIGTERM], ids=["SIGKILL", "SIGTERM"])
async def test_notification_due_at_a_crash_is_sent_after_restart(child: AlertingChild, receiver: Receiver, produce,
                                                                  names: PlatformTopics, signum: int) -> None:
    child.start()
    await child.healthy()
    receiver.fail_next = 1_000_000          # the webhook refuses: the notification stays due
    await produce(names.transitions, [transition("crash-1", "raised", "TK01_LT", at=T0),
                                      transition("crash-1", "confirmed", "TK01_LT", at=T0 + 1000)])
    await eventually(lambda: receiver.refused >= 1, 30, "alerting's first attempt")
    child.kill(signum)
    receiver.fail_next = 0
    child.start()
    await child.healthy()
    await eventually(lambda: delivered(receiver, "crash-1"), 30, "the notification after the restart")
    await asyncio.sleep(2.0)                # time for a repeat, if one were coming
    got = delivered(receiver, "crash-1")
    assert len(got) == 1, got
    assert got[0][2] == "confirmed"


async def test_repeat_after_crash_carries_the_same_id_and_version(child: AlertingChild, receiver: Receiver, produce,
                                                                 names: PlatformTopics) -> None:
    """A fire alarm delivered, the process killed before it marked the delivery: at most one repeat, same id and version."""
    child.start()
    await child.healthy()
    await produce(names.transitions, [transition("crash-2", "raised", "FAC1_Z07", rule="fire", level=None,
                                                 value=None, limit=None, at=T0, message="火警")])
    await eventually(lambda: delivered(receiver, "crash-2"), 30, "the fire notification")
    child.kill(signal.SIGKILL)
    child.start()
    await child.healthy()
    await asyncio.sleep(2.0)
    got = [change for change in delivered(receiver, "crash-2") if change[2] == "raised"]   # (T0: escalations follow)
    assert 1 <= len(got) <= 2 and len(set(got)) == 1, got


async def test_an_alarm_confirmed_while_alerting_is_down_is_notified_at_start(child: AlertingChild, receiver: Receiver,
                                                                              produce, names: PlatformTopics) -> None:
    """The tail a restart folds (past the ledger's offsets) was never sent: it is notified, once."""
    child.start()
    await child.healthy()
    await produce(names.transitions, [transition("before-1", "confirmed", "TK01_TT", at=T0)])
    await eventually(lambda: delivered(receiver, "before-1"), 30, "the notification before the crash")
    # delivered, then settled in the ledger: a kill between the two repeats it after the restart (at least once)
    await eventually(lambda: child.undelivered("before-1") == 0, 30, "the delivery settled in the ledger")
    child.kill(signal.SIGKILL)
    await produce(names.transitions, [transition("down-1", "raised", "TK01_LT", at=T0 + 5000),
                                      transition("down-1", "confirmed", "TK01_LT", at=T0 + 6000)])
    child.start()
    await child.healthy()
    await eventually(lambda: delivered(receiver, "down-1"), 30, "the notification of the alarm confirmed while down")
    await asyncio.sleep(2.0)
    assert [kind for *_, kind in delivered(receiver, "down-1")] == ["confirmed"]
    assert len(delivered(receiver, "before-1")) == 1
