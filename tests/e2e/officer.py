"""A duty officer on the run's API (data standard §8, 闭环处置): acknowledges the first colour limit
alarm (a tailings pond's) the moment it shows, tries to close it while it is still active, closes it
once the data has cleared it, and asks for maintenance suppressions with and without a reason and a
future expiry. A pond's points report every 10 min and clear after 10 min back inside their limit:
even time-warped, such an alarm outlives the close attempt made right after the acknowledgement.

Every answer is kept (HTTP status, body) for the tests to judge; nothing here asserts.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

from hazmon.registry.limits import COLOR_ORDER
from testbed.pipeline import IsolatedPipeline

OFFICER = "e2e"
ACK = {"comment": "已通知企业核查（端到端测试）", "officer": OFFICER}
CLOSE = {"note": "已处置（端到端测试）", "cause": "test", "measures": "无需措施", "officer": OFFICER}   # §8 cause: 测试
HOUR_MS = 3_600_000


@dataclass
class Answer:
    status: int
    body: dict


@dataclass
class OfficerLog:
    acked: str | None = None                  # id of the alarm acknowledged during the run
    answers: dict[str, Answer] = field(default_factory=dict)

    def keep(self, name: str, answer: tuple[int, dict]) -> None:
        self.answers[name] = Answer(*answer)


async def on_duty(run: IsolatedPipeline, alarms: list[dict], log: OfficerLog) -> None:
    """During the run: acknowledge the first active colour limit alarm, then try to close it at once."""
    if log.acked is not None:
        return
    active = [a for a in alarms if a["rule"] == "limit" and a["level"] in COLOR_ORDER and a["state"] == "active"]
    if active:
        log.acked = active[0]["id"]
        log.keep("ack", await run.call("POST", f"/api/v1/alarms/{log.acked}/ack", ACK))
        log.keep("close_while_active", await run.call("POST", f"/api/v1/alarms/{log.acked}/close", CLOSE))


async def after_run(run: IsolatedPipeline, log: OfficerLog, point: tuple[str, str]) -> None:
    """After the run: close the acknowledged alarm if the data cleared it (twice: the second is refused),
    and suppress ``point`` (enterprise, point) without a reason, with a past expiry, then properly."""
    if log.acked is not None:
        log.keep("before_close", await run.call("GET", f"/api/v1/alarms/{log.acked}"))
        if log.answers["before_close"].body.get("state") == "cleared":
            log.keep("close", await run.call("POST", f"/api/v1/alarms/{log.acked}/close", CLOSE))
            log.keep("close_again", await run.call("POST", f"/api/v1/alarms/{log.acked}/close", CLOSE))
    path = f"/api/v1/enterprises/{point[0]}/points/{point[1]}/suppress"
    now_ms = int(time.time() * 1000)
    log.keep("suppress_no_reason", await run.call("POST", path, {"expires_at": now_ms + HOUR_MS}))
    log.keep("suppress_no_expiry", await run.call("POST", path, {"reason": "检修"}))
    log.keep("suppress_expired", await run.call("POST", path, {"reason": "检修", "expires_at": now_ms - HOUR_MS}))
    log.keep("suppress", await run.call("POST", path, {"reason": "检修", "expires_at": now_ms + HOUR_MS}))
