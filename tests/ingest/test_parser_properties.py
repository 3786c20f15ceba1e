"""Property tests over the pure parser: arbitrary input never crashes it, and every message ends
accepted or refused with a reason, every reading accounted for exactly once."""

from __future__ import annotations

import orjson
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ingest.directory import DeviceDirectory
from ingest.parser import MAX_READINGS, Verdict, parse_message
from ingest.reasons import Reason
from ingest.topics import Kind
from tests.ingest.conftest import UNIT_ENTERPRISE

RECV = 1_764_376_900_000
FAST = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_scalars = st.none() | st.booleans() | st.integers(-2**63, 2**63 - 1) | st.floats(allow_nan=False, allow_infinity=False) \
    | st.text(max_size=12) | st.sampled_from(["TK01_LT", "TK01_TT", "TK02_LT", "FAC1_Z07", "good", "bad", "fire",
                                             "2025-11-29T08:40:00+08:00", "2025-11-29T00:40:00Z"])
json_values = st.recursive(json_scalars, lambda inner: st.lists(inner, max_size=4)
                           | st.dictionaries(st.text(max_size=6), inner, max_size=4), max_leaves=12)
readings = st.fixed_dictionaries({}, optional={
    "point": st.sampled_from(["TK01_LT", "TK01_TT", "TK02_LT", "FAC1_Z07", "X"]) | json_scalars,
    "value": st.floats(allow_nan=False, allow_infinity=False) | json_scalars,
    "ts": st.integers(RECV - 10**9, RECV + 10**9) | json_scalars,
    "q": st.sampled_from(["good", "uncertain", "bad", "worse"]) | json_scalars})
messages = st.fixed_dictionaries({}, optional={
    "v": st.sampled_from([1, 1, 1, 2, "1", None]), "ts": st.integers(RECV - 10**9, RECV + 10**9) | json_scalars,
    "seq": st.integers(-5, 10**6) | json_scalars, "readings": st.lists(readings | json_values, max_size=20) | json_values,
    "point": st.sampled_from(["FAC1_Z07", "TK01_LT"]) | json_scalars,
    "event": st.sampled_from(["fire", "fault", "normal", "smoke"]) | json_scalars,
    "online": st.booleans() | json_scalars, "text": json_scalars})
kinds = st.sampled_from(list(Kind))
devices = st.sampled_from(["RTU01", "RTU02", "FAC1", "NOPE"])


def assert_accounted(verdict: Verdict, payload: bytes) -> None:
    """Accepted or refused with a reason; telemetry: each reading exactly once."""
    assert all(isinstance(r.reason, Reason) and r.detail for r in verdict.refusals)
    accepted = verdict.event is not None or verdict.status is not None or len(verdict.readings) > 0
    if verdict.refused_whole:
        assert len(verdict.refusals) == 1 and not accepted
        return
    if verdict.kind is Kind.TELEMETRY:
        count = len(orjson.loads(payload)["readings"])
        assert count <= MAX_READINGS
        refused = sorted(r.reading_index for r in verdict.refusals)
        assert refused == sorted(set(refused))
        assert len(refused) + len(verdict.readings) == count
        assert len({len(verdict.readings.points), len(verdict.readings.ts), len(verdict.readings.values),
                    len(verdict.readings.q), len(verdict.readings.ts_src)}) == 1
    else:
        assert accepted and not verdict.refusals


@FAST
@given(payload=st.binary(max_size=2048), kind=kinds, device=devices)
def test_arbitrary_bytes_never_crash_the_parser(directory: DeviceDirectory, payload: bytes, kind: Kind,
                                                device: str) -> None:
    verdict = parse_message(kind, UNIT_ENTERPRISE, device, payload, RECV, directory)
    assert_accounted(verdict, payload)


@FAST
@given(body=messages | json_values, kind=kinds, device=devices)
def test_every_json_message_ends_accepted_or_refused(directory: DeviceDirectory, body: object, kind: Kind,
                                                     device: str) -> None:
    payload = orjson.dumps(body)
    verdict = parse_message(kind, UNIT_ENTERPRISE, device, payload, RECV, directory, "en")
    assert_accounted(verdict, payload)
    for index, ts in enumerate(verdict.readings.ts):
        assert 0 <= ts <= RECV + 5 * 60_000, index
