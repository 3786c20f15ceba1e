"""The county-scale end-to-end tests: simulated devices → Mosquitto → ingest → Kafka → rules → alerting
→ API and InfluxDB, on the real servers, with the rules worker and the ingest adapter each SIGKILLed
once mid-run and restarted. Two runs (:mod:`tests.e2e.runs`), each played once and judged by every
test taking ``outcome``; a test taking ``county_outcome`` or ``tailings_outcome`` judges that run only.

Judged against the scenarios' ground truth; the rules worker's committed transitions carry the
reading time that opened each alarm, which the expect / forbid windows are about. docs/e2e.md maps
each promise of data standard §8 to the tests and scenarios that hold it.
"""

from __future__ import annotations

from collections import Counter, defaultdict

import pytest

from device_sim.scenario import ControllerEvent, Fire
from stream_rules.device_rules import RECORDED_EVENTS
from tests.e2e.county_run import DEADLINE_S, Outcome, matches
from tests.e2e.officer import ACK, CLOSE, OFFICER
from tests.e2e.promises import causes_over_s, early_deescalations, escalable_spans, least_colour
from tests.e2e.truth import disturbed, truth_problems

pytestmark = pytest.mark.usefixtures("mosquitto", "kafka", "influxdb")
QUIET_AFTER_S = 1800.0   # scenario seconds for every alarm to clear once its causes are over (3 × the longest confirm_s)
TICK_S = 2.5             # alerting notices a due escalation, or a clear that cancels it, within its 1 s tick and a fold


def test_the_processes_survive_and_the_county_is_simulated(outcome: Outcome) -> None:
    assert not outcome.dead_children, f"children exited on their own: {outcome.dead_children}"
    assert len(outcome.registry.enterprises) >= 20
    assert outcome.report["errors"] == 0 and outcome.report["readings"] == outcome.sent[0], outcome.report


def test_the_ground_truth_follows_from_the_readings_played(outcome: Outcome) -> None:
    """The scenario files' truth, moved and combined, holds for exactly what the devices sent."""
    assert truth_problems(outcome.registry, outcome.played, outcome.truth) == []


def test_no_reading_is_lost(outcome: Outcome) -> None:
    _, accepted, distinct = outcome.sent
    assert outcome.influx_readings == distinct, f"InfluxDB holds {outcome.influx_readings}, the platform accepts {distinct}"
    assert outcome.kafka_readings >= accepted, f"Kafka holds {outcome.kafka_readings}, the devices sent {accepted}"


def test_every_expected_alarm_in_its_window_and_within_its_deadline(outcome: Outcome) -> None:
    openings = outcome.openings
    for expected in outcome.truth.expect:
        hits = [t for t in openings if matches(expected, t) and outcome.in_window(expected, t)]
        assert hits, f"missing {expected}: {outcome.seen(openings)}"
        first = min(outcome.first_seen_ms.get(t["id"], float("inf")) for t in hits)
        late_s = (first - outcome.wall_ms(expected.to_s)) / 1000
        assert late_s <= DEADLINE_S, f"{expected} in the API {late_s:.1f} s after its window closed"
        assert {t["id"] for t in hits} <= outcome.influx_ids, f"{expected} not in InfluxDB"


def test_no_forbidden_alarm_and_none_where_no_scenario_disturbs(outcome: Outcome) -> None:
    for forbidden in outcome.truth.forbid:
        wrong = [t for t in outcome.openings if matches(forbidden, t) and outcome.in_window(forbidden, t, forbidden=True)]
        assert not wrong, f"forbidden {forbidden}: {outcome.seen(wrong)}"
    touched = disturbed(outcome.registry, outcome.scenario)
    stray = [t for t in outcome.openings if (t["enterprise"], t["point"] or t["device"]) not in touched]
    assert not stray, f"alarms on what no scenario disturbs: {outcome.seen(stray)[:5]}"


def test_a_worse_level_escalates_the_same_alarm(outcome: Outcome) -> None:
    """§8: a worse level on the same point escalates that alarm; it is not a second one."""
    levels: dict[tuple[str, str], list] = defaultdict(list)
    for expected in outcome.truth.expect:
        if expected.rule == "limit":
            levels[(expected.enterprise, expected.point)].append(expected)   # type: ignore[index]
    climbs = {point: alarms for point, alarms in levels.items() if len(alarms) > 1}
    assert climbs, "no scenario of this run climbs two levels of one point"
    for point, alarms in climbs.items():
        ids = {t["id"] for t in outcome.openings for a in alarms if matches(a, t) and outcome.in_window(a, t)}
        assert len(ids) == 1, f"{point}: {len(ids)} alarms for {[a.level for a in alarms]}"
        assert any(t["id"] in ids and t["transition"] == "escalated" for t in outcome.transitions)


def test_a_better_level_deescalates_only_after_the_clear_condition(county_outcome: Outcome,
                                                                   tailings_outcome: Outcome) -> None:
    """§8: a better level de-escalates an alarm only after the clear condition held (deadband, confirm_s).
    GAS1's plume decays through high_high into high for minutes (county); the flooded pond's water
    level may fall from red to orange (tailings), or clear at once, as its random rain has it."""
    judged = 0
    for outcome in (county_outcome, tailings_outcome):
        count, early = early_deescalations(outcome.registry, outcome.played, outcome.transitions)
        assert not early, f"{outcome.spec.name}: {early}"
        judged += count
    assert judged, "no limit alarm of either run de-escalated"


def test_one_open_alarm_per_point_and_rule(outcome: Outcome) -> None:
    """§8: no repeats, no flapping — never two alarms of one point (device, site) and rule open at once."""
    subjects = {t["id"]: (t["enterprise"], t["point"] or t["device"], t["rule"],
                          t["level"] if t["rule"] == "rainfall" else None)   # 1 h and 24 h are two alarms
                for t in outcome.transitions}
    by_subject: dict[tuple, list[tuple[int, float]]] = defaultdict(list)
    for alarm_id, span in outcome.spans().items():
        by_subject[subjects[alarm_id]].append(span)
    for subject, alarm_spans in by_subject.items():
        alarm_spans.sort()
        overlaps = [(a, b) for a, b in zip(alarm_spans, alarm_spans[1:]) if b[0] < a[1]]
        assert not overlaps, f"{subject}: alarms open at once {overlaps[:2]}"


def test_no_alarm_is_duplicated(outcome: Outcome) -> None:
    """The same alarms everywhere, each once: the rules' output, the API, InfluxDB."""
    api_ids = Counter(alarm["id"] for alarm in outcome.api_alarms)
    assert outcome.openings, "the run opened no alarm at all"
    assert all(n == 1 for n in api_ids.values()), f"an alarm twice in the API: {api_ids.most_common(3)}"
    assert {t["id"] for t in outcome.transitions} == set(api_ids), "the API and the rules' output differ"
    assert set(api_ids) <= outcome.influx_ids, f"not in InfluxDB: {set(api_ids) - outcome.influx_ids}"


def test_no_transition_is_committed_twice(outcome: Outcome) -> None:
    changes = Counter((t["id"], t["transition"], t["level"], t["reading_ts"]) for t in outcome.transitions)
    assert all(n == 1 for n in changes.values()), f"repeated: {[k for k, n in changes.items() if n > 1]}"


@pytest.mark.parametrize("run", ["county", "tailings"])
def test_an_id_names_one_alarm(run: str, request: pytest.FixtureRequest) -> None:
    """§8: every alarm has a stable id: one subject and rule, opened once."""
    outcome: Outcome = request.getfixturevalue(f"{run}_outcome")
    opened = Counter(t["id"] for t in outcome.transitions if t["transition"] in ("raised", "confirmed"))
    assert all(n == 1 for n in opened.values()), f"opened twice: {[k for k, n in opened.items() if n > 1]}"
    named = {(t["id"], t["enterprise"], t["point"], t["device"], t["rule"], t["started_at"]) for t in outcome.transitions}
    assert len(named) == len({t["id"] for t in outcome.transitions})


def test_alarms_clear_once_their_causes_are_over(county_outcome: Outcome) -> None:
    """§8: an alarm clears when the data is back (by deadband, for confirm_s); an offline one when the
    device is. Every injection of the county run is over well before its end."""
    over = causes_over_s(county_outcome.scenario)
    assert over is not None and over + QUIET_AFTER_S <= county_outcome.scenario.duration_s
    still = [(a["point"] or a["device"], a["rule"], a["level"], a["state"]) for a in county_outcome.api_alarms
             if a["id"] in {t["id"] for t in county_outcome.openings} and a["state"] not in ("cleared", "closed")]
    assert not still, f"still open: {still}"


def test_controller_events_take_effect_at_their_time(county_outcome: Outcome) -> None:
    """§8: ``disabled`` (屏蔽) is recorded with its time, as are the other events that raise nothing;
    ``reset``/``normal`` clear what the point raised (its fire, its fault), at the event's time."""
    outcome, start = county_outcome, county_outcome.start_ms
    recorded = {(t["enterprise"], t["point"], t["extra"]["event"], t["reading_ts"])
                for t in outcome.transitions if t["transition"] == "recorded"}
    clears: list[tuple[str, str, int]] = []
    for event in outcome.scenario.injections:
        at = start + round(event.at_s * 1000)
        if isinstance(event, ControllerEvent) and event.event in RECORDED_EVENTS:
            assert (event.enterprise, event.point, event.event, at) in recorded, f"{event} not recorded"
        elif isinstance(event, ControllerEvent) and event.event in ("reset", "normal"):
            clears.append((event.enterprise, event.point, at))
        elif isinstance(event, Fire) and event.reset_after_s is not None:
            clears.append((event.enterprise, event.point, at + round(event.reset_after_s * 1000)))
    subjects = {t["id"]: (t["enterprise"], t["point"], t["rule"]) for t in outcome.transitions}
    cleared = 0
    for enterprise, point, at in clears:
        for alarm_id, (opened, closed) in outcome.spans().items():
            if subjects[alarm_id] in ((enterprise, point, "fire"), (enterprise, point, "fault")) and opened < at <= closed:
                assert closed == at, f"{point}: {alarm_id} cleared at {closed - start} ms, not by the event at {at - start} ms"
                cleared += 1
    assert cleared >= 2, "the run has no fire and no fault that a reset or normal event cleared"


def test_unacknowledged_second_level_alarms_escalate(outcome: Outcome) -> None:
    """§8: not acknowledged in 5 min (county duty desk) and 15 min (prefecture), scaled by the speed."""
    delays_ms = [round(s * 1000) for s in outcome.spec.escalate_s]
    api = {alarm["id"]: alarm for alarm in outcome.api_alarms}
    spans = escalable_spans(outcome.transitions, outcome.ended_ms)
    due_everywhere = 0
    for alarm_id, alarm in api.items():
        steps = {step["tier"]: step["at"] for step in alarm["escalations"]}
        if alarm_id not in spans:
            assert not steps, f"{alarm_id} ({alarm['rule']} {alarm['level']}) escalated: {steps}"
            continue
        since, until = spans[alarm_id]
        until = min(until, alarm["acked_at"] or until)
        for tier, delay in enumerate(delays_ms, start=1):
            if until - since > delay + TICK_S * 1000:
                assert abs(steps.get(tier, 0) - (since + delay)) <= 1, f"{alarm_id} tier {tier}: {steps}, since {since}"
                due_everywhere += tier == 2
            elif until - since < delay - TICK_S * 1000:
                assert tier not in steps, f"{alarm_id} escalated to tier {tier} though it stopped being due before"
    lasted = sorted(((min(until, api[a]["acked_at"] or until) - since) / 1000, api[a]["rule"], api[a]["level"],
                     api[a]["point"] or api[a]["device"]) for a, (since, until) in spans.items() if a in api)
    assert due_everywhere, f"no alarm of this run stayed unacknowledged long enough to reach the prefecture: {lasted[-5:]}"


def test_enterprise_risk_colour(outcome: Outcome) -> None:
    """§8's colour from the active alarms: at least what each expected alarm implies, blue where nothing
    happens, and the API's colour at the end the same as InfluxDB's last."""
    worst: dict[str, int] = defaultdict(int)
    last: dict[str, tuple[int, int]] = {}
    for ts, level, enterprise in outcome.influx_risk:
        worst[enterprise] = max(worst[enterprise], level)
        last[enterprise] = max(last.get(enterprise, (ts, level)), (ts, level))
    for expected in outcome.truth.expect:
        least = least_colour(outcome.registry, expected)
        assert worst[expected.enterprise] >= least, f"{expected}: colour {worst[expected.enterprise]}, at least {least}"
    quiet = {e: level for e, level in worst.items() if e not in outcome.scenario.enterprises and level > 0}
    assert not quiet, f"risk raised where nothing happened: {quiet}"
    for enterprise, risk in outcome.api_risk.items():
        assert risk["level"] == last[enterprise][1], f"{enterprise}: API {risk}, InfluxDB {last[enterprise]}"


def test_an_officer_acknowledges_and_cannot_close_an_active_alarm(outcome: Outcome) -> None:
    """§8 lifecycle: acknowledged by whom, when, with a comment; not closed while the data holds it."""
    answers = outcome.officer.answers
    assert outcome.officer.acked is not None, "no colour limit alarm was ever active"
    ack = answers["ack"]
    assert ack.status == 200 and ack.body["state"] == "acknowledged", ack
    assert ack.body["acked_by"] == f"duty/{OFFICER}" and ack.body["ack_comment"] == ACK["comment"]
    assert outcome.play_started_ms <= ack.body["acked_at"] <= outcome.ended_ms
    refused = answers["close_while_active"]
    assert (refused.status, refused.body["error"]) == (409, "still_active"), refused


def test_an_officer_closes_an_alarm_the_data_cleared(county_outcome: Outcome) -> None:
    """§8 lifecycle: active → acknowledged → cleared (by the data) → closed, with a disposal note."""
    answers = county_outcome.officer.answers
    assert answers["before_close"].body["state"] == "cleared", answers["before_close"]
    closed = answers["close"]
    assert closed.status == 200 and closed.body["state"] == "closed", closed
    assert (closed.body["closed_by"], closed.body["close_note"], closed.body["close_cause"], closed.body["close_measures"]) \
        == (f"duty/{OFFICER}", CLOSE["note"], CLOSE["cause"], CLOSE["measures"])
    assert closed.body["acked_by"] == f"duty/{OFFICER}" and closed.body["closed_at"] >= closed.body["acked_at"]
    assert (answers["close_again"].status, answers["close_again"].body["error"]) == (409, "closed")


def test_a_suppression_needs_a_reason_and_a_future_expiry(outcome: Outcome) -> None:
    answers = outcome.officer.answers
    assert (answers["suppress_no_reason"].status, answers["suppress_no_reason"].body["field"]) == (422, "reason")
    assert (answers["suppress_no_expiry"].status, answers["suppress_no_expiry"].body["field"]) == (422, "expires_at")
    assert (answers["suppress_expired"].status, answers["suppress_expired"].body["error"]) == (409, "expired")
    assert answers["suppress"].status == 200 and answers["suppress"].body["accepted"], answers["suppress"]
