"""The county-scale end-to-end test: simulated devices → Mosquitto → ingest → Kafka → rules → alerting
→ API and InfluxDB, on the real servers, with the rules worker and the ingest adapter each SIGKILLed
once mid-run and restarted.

Judged against the scenarios' ground truth (the rules worker's committed transitions carry the
reading time that opened each alarm): every expected alarm opened inside its window, is in the API
within DEADLINE_S of the moment its window closed on the device clock, and is in InfluxDB's
``alarm`` measurement; no forbidden one opened; no transition was committed twice; the twenty quiet
enterprises raised nothing; and every reading the simulator sent reached InfluxDB.
"""

from __future__ import annotations

import asyncio
import time
from collections import Counter

import orjson

from tests.e2e.county_run import OPENING, combined_scenario, in_window, matches
from tests.e2e.pipeline import IsolatedPipeline

SPEED = 40.0             # scenario seconds per wall second: one hour of device time in 90 s
KILL_RULES_AT_S = 20.0   # wall seconds after the devices start
KILL_INGEST_AT_S = 45.0
RESTART_AFTER_S = 2.0
DEADLINE_S = 30.0        # wall seconds from the end of an alarm's window (a restart included)
SETTLE_S = 120.0         # longest wait for InfluxDB to hold every reading after the devices stop


async def _watch_api(run: IsolatedPipeline, first_seen: dict[str, float], stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            for alarm in await run.alarms():
                first_seen.setdefault(alarm["id"], time.monotonic())
        except OSError:
            pass   # the API is only read; a refused poll is retried next second
        await asyncio.sleep(1.0)


async def _crash_and_restart(run: IsolatedPipeline, name: str, at_wall: float) -> None:
    await asyncio.sleep(max(0.0, at_wall - time.monotonic()))
    await asyncio.to_thread(run.supervisor.kill, name)
    await asyncio.sleep(RESTART_AFTER_S)
    {"rules": run.start_rules, "ingest": run.start_ingest}[name]()


async def _play(run: IsolatedPipeline, scenario_file: str) -> tuple[dict, float, dict[str, float]]:
    run.start_ingest()
    run.start_rules()
    run.start_alerting()
    await run.wait_api()
    first_seen: dict[str, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_api(run, first_seen, stop))
    sim = run.sim(["run", "--county", str(run.county_dir), "--scenario", scenario_file, "--speed", str(SPEED)])
    devices_started = time.monotonic()
    crashes = [asyncio.create_task(_crash_and_restart(run, "rules", devices_started + KILL_RULES_AT_S)),
               asyncio.create_task(_crash_and_restart(run, "ingest", devices_started + KILL_INGEST_AT_S))]
    out, _ = await asyncio.to_thread(sim.communicate)
    await asyncio.gather(*crashes)
    assert sim.returncode == 0, f"the simulator failed: {out[-2000:]!r}"
    report = orjson.loads(out.splitlines()[-1])
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and await run.influx_readings() < report["readings"]:
        await asyncio.sleep(2.0)
    await asyncio.sleep(DEADLINE_S / 3)   # transitions of the last readings reach the API
    stop.set()
    await watcher
    dead = [c.name for c in run.supervisor.dead()]
    assert not dead, f"children exited on their own: {dead}: {[run.supervisor.children[n].log_tail() for n in dead]}"
    return report, devices_started, first_seen


def test_a_county_with_crashes_meets_the_ground_truth(pipeline: IsolatedPipeline) -> None:
    async def scenario() -> None:
        scenario_file, truth = combined_scenario(pipeline.home / "scenario")
        report, devices_started, first_seen = await _play(pipeline, str(scenario_file))
        start_ms = report["device_start_ms"]

        assert report["devices"] >= 20 and report["errors"] == 0, report
        stored, accepted = await pipeline.influx_readings(), await pipeline.kafka_readings()
        assert stored == report["readings"], f"InfluxDB holds {stored} readings, the devices sent {report['readings']}"
        assert accepted >= report["readings"], f"ingest accepted {accepted}, the devices sent {report['readings']}"

        transitions = await pipeline.transitions()
        api_ids = {alarm["id"] for alarm in await pipeline.alarms()}
        influx_ids = {alarm_id for _, alarm_id in await pipeline.influx_query("SELECT id FROM alarm")}
        changes = Counter((t["id"], t["transition"], t["reading_ts"]) for t in transitions)
        assert all(n == 1 for n in changes.values()), f"a transition committed twice: {changes.most_common(3)}"
        assert {t["id"] for t in transitions} == api_ids, "the API and the rules' output hold different alarms"
        assert api_ids <= influx_ids, f"alarms missing in InfluxDB: {api_ids - influx_ids}"

        openings = [t for t in transitions if t["transition"] in OPENING]
        for expected in truth.expect:
            hits = [t for t in openings if matches(expected, t) and in_window(expected, t, start_ms)]
            assert hits, f"missing {expected}: {[(t['point'], t['rule'], t['level'], t['reading_ts'] - start_ms) for t in openings]}"
            window_closed = devices_started + expected.to_s / SPEED
            assert min(first_seen.get(t["id"], float("inf")) for t in hits) <= window_closed + DEADLINE_S, \
                f"{expected} not in the API within {DEADLINE_S} s"
        for forbidden in truth.forbid:
            wrong = [t for t in openings if matches(forbidden, t) and in_window(forbidden, t, start_ms)]
            assert not wrong, f"forbidden {forbidden}: {wrong[:2]}"
        quiet = [t for t in openings if t["enterprise"] not in truth.enterprises]
        assert not quiet, f"alarms of enterprises no scenario disturbs: {quiet[:3]}"

    asyncio.run(scenario())
