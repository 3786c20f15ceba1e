"""The county-scale end-to-end test: simulated devices → Mosquitto → ingest → Kafka → rules → alerting
→ API and InfluxDB, on the real servers, with the rules worker and the ingest adapter each SIGKILLed
once mid-run and restarted (one run, :func:`tests.e2e.county_run.play_county`, judged by each test).

Judged against the scenarios' ground truth; the rules worker's committed transitions carry the
reading time that opened each alarm, which the expect / forbid windows are about.
"""

from __future__ import annotations

from collections import Counter

import pytest

from tests.e2e.county_run import DEADLINE_S, SPEED, CountyOutcome, in_window, matches

pytestmark = pytest.mark.usefixtures("mosquitto", "kafka", "influxdb")


def test_the_processes_survive_and_the_county_is_simulated(county_outcome: CountyOutcome) -> None:
    assert not county_outcome.dead_children, f"children exited on their own: {county_outcome.dead_children}"
    assert county_outcome.report["devices"] >= 20 and county_outcome.report["errors"] == 0, county_outcome.report


def test_no_reading_is_lost(county_outcome: CountyOutcome) -> None:
    sent = county_outcome.report["readings"]
    assert county_outcome.influx_readings == sent, f"InfluxDB holds {county_outcome.influx_readings}, the devices sent {sent}"
    assert county_outcome.kafka_readings >= sent, f"ingest accepted {county_outcome.kafka_readings}, the devices sent {sent}"


def test_every_expected_alarm_in_its_window_and_within_its_deadline(county_outcome: CountyOutcome) -> None:
    start_ms = county_outcome.report["device_start_ms"]
    openings = county_outcome.openings
    for expected in county_outcome.truth.expect:
        hits = [t for t in openings if matches(expected, t) and in_window(expected, t, start_ms)]
        assert hits, f"missing {expected}: {[(t['point'], t['rule'], t['level'], t['reading_ts'] - start_ms) for t in openings]}"
        window_closed = county_outcome.devices_started + expected.to_s / SPEED
        first = min(county_outcome.first_seen.get(t["id"], float("inf")) for t in hits)
        assert first <= window_closed + DEADLINE_S, f"{expected} not in the API within {DEADLINE_S} s"
        assert {t["id"] for t in hits} <= county_outcome.influx_ids, f"{expected} not in InfluxDB"


def test_no_forbidden_alarm_and_none_in_the_quiet_county(county_outcome: CountyOutcome) -> None:
    start_ms = county_outcome.report["device_start_ms"]
    for forbidden in county_outcome.truth.forbid:
        wrong = [t for t in county_outcome.openings if matches(forbidden, t) and in_window(forbidden, t, start_ms)]
        assert not wrong, f"forbidden {forbidden}: {wrong[:2]}"
    quiet = [t for t in county_outcome.openings if t["enterprise"] not in county_outcome.truth.enterprises]
    assert not quiet, f"alarms of enterprises no scenario disturbs: {quiet[:3]}"


def test_no_alarm_is_duplicated(county_outcome: CountyOutcome) -> None:
    """The same alarms everywhere, each once: the rules' output, the API, InfluxDB."""
    api_ids = Counter(county_outcome.api_ids)
    assert county_outcome.openings, "the run opened no alarm at all"
    assert all(n == 1 for n in api_ids.values()), f"an alarm twice in the API: {api_ids.most_common(3)}"
    assert {t["id"] for t in county_outcome.transitions} == set(api_ids), "the API and the rules' output differ"
    assert set(api_ids) <= county_outcome.influx_ids, f"not in InfluxDB: {set(api_ids) - county_outcome.influx_ids}"


def test_no_transition_is_committed_twice(county_outcome: CountyOutcome) -> None:
    changes = Counter((t["id"], t["transition"], t["reading_ts"]) for t in county_outcome.transitions)
    assert all(n == 1 for n in changes.values()), f"repeated: {[k for k, n in changes.items() if n > 1]}"
