"""Unit tests of the alarm book, risk colour and escalation: pure functions, no servers."""

from __future__ import annotations

import pytest

from hazmon.registry import Registry, SiteKind
from hazmon.wire import AlarmAction, PLATFORM_ENTERPRISE

from alerting.book import AlarmBook
from alerting.escalation import due_escalations
from alerting.model import ActionRefused
from alerting.risk import enterprise_risk, pond_colors
from alerting.risk_tracker import RiskTracker
from alerting.text import Texts
from testbed.alerting import CHEM, FIRE, MINE, T0, transition

MIN = 60_000
DELAYS = (5 * MIN, 15 * MIN)


def action(kind: str, alarm: str, ts: int, **fields) -> AlarmAction:
    return AlarmAction(v=1, action_id=f"{kind}-{alarm}-{ts}", action=kind, enterprise=CHEM, ts=ts, by="duty", alarm=alarm,
                       **fields)


@pytest.fixture
def book() -> AlarmBook:
    return AlarmBook(Texts("zh"))


def site_kinds(registry: Registry):
    kinds = {(e, s.id): s.kind for e, doc in registry.enterprises.items() for s in doc.sites}
    return lambda enterprise, site: kinds.get((enterprise, site))


def test_lifecycle_active_acknowledged_cleared_closed(book: AlarmBook) -> None:
    book.apply_transition(transition("a1", "confirmed", "TK01_LT"))
    assert book.get("a1").state == "active"
    with pytest.raises(ActionRefused) as refused:
        book.apply_action(action("close", "a1", T0 + MIN, note="已处置"))
    assert refused.value.code == "still_active" and "不能关闭" in refused.value.message
    event = book.apply_action(action("ack", "a1", T0 + MIN, comment="已通知现场"))
    assert event.kind == "acknowledged" and book.get("a1").state == "acknowledged"
    assert (book.get("a1").acked_by, book.get("a1").acked_at, book.get("a1").ack_comment) == ("duty", T0 + MIN, "已通知现场")
    with pytest.raises(ActionRefused, match="已被签收"):
        book.apply_action(action("ack", "a1", T0 + 2 * MIN, comment="again"))
    book.apply_transition(transition("a1", "cleared", "TK01_LT", at=T0 + 3 * MIN))
    assert book.get("a1").state == "cleared"
    event = book.apply_action(action("close", "a1", T0 + 4 * MIN, note="液位计校准", cause="进料阀内漏", measures="更换阀门"))
    alarm = book.get("a1")
    assert event.kind == "closed" and alarm.state == "closed"
    assert (alarm.close_note, alarm.close_cause, alarm.close_measures) == ("液位计校准", "进料阀内漏", "更换阀门")
    with pytest.raises(ActionRefused):
        book.apply_action(action("ack", "a1", T0 + 5 * MIN, comment="late"))


def test_latest_transition_per_id_wins_and_older_is_ignored(book: AlarmBook) -> None:
    book.apply_transition(transition("a1", "confirmed", "TK01_LT", level="high", at=T0))
    book.apply_transition(transition("a1", "escalated", "TK01_LT", level="high_high", value=10.8, at=T0 + MIN))
    assert book.apply_transition(transition("a1", "confirmed", "TK01_LT", level="high", at=T0)) is None
    assert book.get("a1").level == "high_high" and book.get("a1").value == 10.8


def test_raised_limit_alarm_is_not_yet_the_platforms_alarm(book: AlarmBook) -> None:
    raised = book.apply_transition(transition("a1", "raised", "TK01_LT"))
    assert not book.get("a1").is_open and not raised.notify
    confirmed = book.apply_transition(transition("a1", "confirmed", "TK01_LT", at=T0 + 30_000))
    assert book.get("a1").is_open and confirmed.notify and confirmed.annotate


@pytest.mark.parametrize(("point", "rule", "level", "age_min", "expected"), [
    ("TK01_LT", "limit", "high_high", 0, "red"),      # second level on a major hazard source
    ("WK01_WL", "limit", "red", 0, "red"),
    ("FAC1_Z07", "fire", None, 0, "red"),             # any fire alarm
    ("BLD1_TANK", "limit", "low_low", 0, "orange"),   # second level elsewhere
    ("WK01_DS1", "limit", "orange", 0, "orange"),
    ("TK01_LT", "limit", "high", 29, "yellow"),
    ("TK01_LT", "limit", "high", 30, "orange"),       # first level open over 30 min
    ("WK01_DS1", "limit", "yellow", 0, "yellow"),
    ("TK01_TT", "trend", None, 0, "yellow"),
    ("TK01_LT", "trend", "high_high", 45, "yellow"),  # a trend predicting the second level is still a warning
    ("TK01_TT", "offline", None, 0, "yellow"),
    ("WK01_DS1", "limit", "blue", 0, "blue"),
])
def test_enterprise_risk_colour(book: AlarmBook, registry: Registry, point: str, rule: str, level: str | None,
                                age_min: int, expected: str) -> None:
    book.apply_transition(transition("a1", "confirmed", point, rule=rule, level=level))
    enterprise = book.get("a1").enterprise
    risk = enterprise_risk(book.of_enterprise(enterprise), site_kinds(registry), T0 + age_min * MIN)
    assert (risk.color, risk.active_alarms) == (expected, 1)
    book.apply_transition(transition("a1", "cleared", point, rule=rule, level=level, at=T0 + MIN))
    assert enterprise_risk(book.of_enterprise(enterprise), site_kinds(registry), T0 + 2 * MIN).color == "blue"


def test_the_platforms_data_outage_is_an_alarm_at_once_and_colours_no_enterprise(book: AlarmBook, registry: Registry) -> None:
    record = transition("p1", "raised", "TK01_LT", rule="platform", level=None, value=None, limit=None)
    record.update(enterprise=PLATFORM_ENTERPRISE, site="", device="", point="")
    event = book.apply_transition(record)
    assert book.get("p1").is_open and event is not None and event.notify
    tracker = RiskTracker(book, site_kinds(registry))
    assert tracker.update(PLATFORM_ENTERPRISE, T0) == [] and tracker.restore(T0) == []


def test_pond_colour_is_the_worst_of_its_alarms(book: AlarmBook, registry: Registry) -> None:
    book.apply_transition(transition("a1", "confirmed", "WK01_DS1", level="yellow"))
    book.apply_transition(transition("a2", "confirmed", "WK01_WL", level="orange"))
    book.apply_transition(transition("a3", "confirmed", "TK01_LT", level="high_high"))   # not a pond
    book.apply_transition(transition("t1", "raised", "WK01_WL", rule="trend", level="red"))   # a warning only
    colors = pond_colors(book.alarms.values(), site_kinds(registry))
    assert {k: (c.color, c.active_alarms) for k, c in colors.items()} == {(MINE, "WK01"): ("orange", 3)}
    assert site_kinds(registry)(MINE, "WK01") is SiteKind.TAILINGS_POND


def test_escalation_steps_are_due_at_5_and_15_minutes_unless_acknowledged(book: AlarmBook) -> None:
    book.apply_transition(transition("a1", "confirmed", "TK01_LT", level="high_high", at=T0))
    book.apply_transition(transition("a2", "confirmed", "TK01_PT", level="high", at=T0))           # first level: never
    book.apply_transition(transition("f1", "confirmed", "FAC1_Z07", rule="fire", level=None, at=T0))
    book.apply_transition(transition("t1", "raised", "TK01_PT", rule="trend", level="high_high", at=T0))  # never
    book.apply_transition(transition("a3", "confirmed", "TK01_TT", level="high_high", at=T0))
    book.apply_action(action("ack", "a3", T0 + 4 * MIN, comment="到场"))
    assert due_escalations(book, T0 + 5 * MIN - 1, DELAYS) == []
    due = due_escalations(book, T0 + 5 * MIN, DELAYS)
    assert sorted((a["alarm"], a["tier"], a["ts"]) for a in due) == [("a1", 1, T0 + 5 * MIN), ("f1", 1, T0 + 5 * MIN)]
    for step in due:
        book.apply_action(step)
    assert due_escalations(book, T0 + 10 * MIN, DELAYS) == []
    late = due_escalations(book, T0 + 20 * MIN, DELAYS)
    assert sorted((a["alarm"], a["tier"], a["ts"]) for a in late) == [("a1", 2, T0 + 15 * MIN), ("f1", 2, T0 + 15 * MIN)]
    event = book.apply_action(late[0])
    assert event.notify and book.get(late[0]["alarm"]).escalations[-1] == {"tier": 2, "at": T0 + 15 * MIN}
    with pytest.raises(ActionRefused):   # the same step from another instance is recognised
        book.apply_action(late[0])


def test_suppressed_point_is_not_escalated_until_the_suppression_expires(book: AlarmBook) -> None:
    book.apply_action(AlarmAction(v=1, action_id="s1", action="suppress", enterprise=CHEM, ts=T0, by="duty",
                                  point="TK01_LT", reason="液位计检修", expires_at=T0 + 10 * MIN))
    book.apply_transition(transition("a1", "confirmed", "TK01_LT", level="high_high", at=T0 + MIN))
    assert book.is_suppressed(book.get("a1"), T0 + 2 * MIN)
    assert not book.is_suppressed(book.get("a1"), T0 + 10 * MIN)
    assert due_escalations(book, T0 + 10 * MIN - 1, DELAYS) == []
    assert [(a["tier"], a["ts"]) for a in due_escalations(book, T0 + 10 * MIN, DELAYS)] == [(1, T0 + 10 * MIN)]
    assert [(a["tier"], a["ts"]) for a in due_escalations(book, T0 + 16 * MIN, DELAYS)] == [
        (1, T0 + 10 * MIN), (2, T0 + 16 * MIN)]
    with pytest.raises(ActionRefused):
        book.check_action(AlarmAction(v=1, action_id="s2", action="suppress", enterprise=FIRE, ts=T0, by="duty",
                                      point="BLD1_TANK", reason="x", expires_at=T0))


def test_a_suppression_record_is_held_to_the_rules_whoever_wrote_it(book: AlarmBook) -> None:
    """The API refuses these first; the book refuses them too when they reach the log another way."""
    hour = 3_600_000
    for fields, code in (({"reason": 5, "expires_at": T0 + hour}, "no_reason"),
                         ({"reason": "  ", "expires_at": T0 + hour}, "no_reason"),
                         ({"reason": "检修", "expires_at": T0 + 72 * hour + 1}, "too_long"),
                         ({"reason": "检修", "expires_at": T0}, "expired")):
        with pytest.raises(ActionRefused) as refused:
            book.apply_action(AlarmAction(v=1, action_id="s", action="suppress", enterprise=CHEM, ts=T0, by="duty",
                                          point="TK01_LT", **fields))
        assert refused.value.code == code, fields
    assert book.suppressions == {}


def test_a_first_level_alarm_ageing_is_written_once_and_not_looked_at_again(book: AlarmBook, registry: Registry) -> None:
    """Turning 30 minutes old moves yellow to orange once, stamped when it turned; the ticks after it
    leave the enterprise alone (before: every tick evaluated every such enterprise again, 1 000
    enterprises ≈ 20 ms a second during which the API waited)."""
    book.apply_transition(transition("a1", "confirmed", "TK01_LT", level="high", at=T0))
    book.apply_transition(transition("r1", "confirmed", "WK01_WL", level="red", at=T0))
    book.apply_transition(transition("a2", "confirmed", "WK01_DS1", level="high", at=T0))
    tracker = RiskTracker(book, site_kinds(registry))
    tracker.update(CHEM, T0), tracker.update(MINE, T0)
    looked_at: list[tuple[str, int]] = []
    update = tracker.update
    tracker.update = lambda enterprise, ts: looked_at.append((enterprise, ts)) or update(enterprise, ts)  # type: ignore[method-assign]
    assert tracker.age(T0 + 29 * MIN) == [] and looked_at == []
    aged = tracker.age(T0 + 31 * MIN)
    assert [line.split(" ")[0] for line in aged] == [f"enterprise_risk,enterprise={CHEM}"]
    assert aged[0].endswith(f" {T0 + 30 * MIN}") and "orange" in aged[0]
    assert sorted(looked_at) == sorted([(CHEM, T0 + 30 * MIN), (MINE, T0 + 30 * MIN)])   # MINE already red
    looked_at.clear()
    assert tracker.age(T0 + 32 * MIN) == [] and looked_at == []
