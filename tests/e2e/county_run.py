"""One end-to-end run (:mod:`tests.e2e.runs`): its scenario played on the county through an isolated
pipeline whose rules worker and ingest adapter are each SIGKILLed once mid-run and restarted, a duty
officer acting on its alarms, and what came out of it (the simulator's report, the rules' committed
transitions, the API's and InfluxDB's view), for the tests to judge.
"""

from __future__ import annotations

import asyncio
import math
import statistics
import time
from dataclasses import dataclass

import aiohttp
import orjson

from device_sim.scenario import ExpectedAlarm, Scenario
from device_sim.stream import ScenarioRun
from hazmon.registry import Registry
from tests.e2e import officer
from testbed.pipeline import IsolatedPipeline
from tests.e2e.runs import RunSpec, Truth, write_scenario
from tests.e2e.truth import only, played, readings_sent

OPENING = ("raised", "confirmed", "escalated")
RESTART_AFTER_S = 2.0
DEADLINE_S = 30.0        # wall seconds from the end of an alarm's window (a restart included)
SETTLE_S = 120.0         # longest wait for InfluxDB to hold every reading after the devices stop
# A will carries no time: ingest stamps it on arrival, so its reading time is the wall clock's,
# converted back to device time with its device's messages, within a few ms of jitter: an expected
# alarm may be this much early, a forbidden one must be this much inside its window. Its transport
# delay grows by the speed too; this much of it is allowed after an expected window.
WILL_JITTER_S = 0.05
WILL_DELIVERY_S = 2.0


@dataclass
class Outcome:
    spec: RunSpec
    scenario: Scenario
    truth: Truth
    registry: Registry
    report: dict                    # the simulator's (device_sim.run.run_scenario)
    played: ScenarioRun             # the scenario's enterprises' messages, regenerated, as the platform takes them
    sent: tuple[int, int, int]      # readings published, accepted, distinct accepted (truth.readings_sent)
    wall_zero_ms: dict[tuple[str, str], float]   # (enterprise, device) → wall epoch ms of scenario second 0
    first_seen_ms: dict[str, int]   # alarm id → when the API first listed it (wall epoch ms)
    dead_children: dict[str, str]   # name → log tail of a child that exited on its own
    influx_readings: int
    kafka_readings: int
    transitions: list[dict]
    api_alarms: list[dict]          # as the API lists them at the end (a repeat would show)
    influx_ids: set[str]
    influx_risk: list[list]         # enterprise_risk points: [time, level, enterprise]
    api_risk: dict[str, dict]       # GET /api/v1/enterprises/{id}/risk at the end, scenario enterprises
    officer: officer.OfficerLog
    ended_ms: int                   # when the outcome was read (wall epoch ms)

    @property
    def openings(self) -> list[dict]:
        return [t for t in self.transitions if t["transition"] in OPENING]

    def spans(self) -> dict[str, tuple[int, float]]:
        """Alarm id → (reading time it opened, reading time it cleared, or inf); records left out."""
        result: dict[str, tuple[int, float]] = {}
        for t in sorted(self.transitions, key=lambda t: t["emitted_ms"]):
            if t["transition"] != "recorded":
                opened, cleared = result.get(t["id"], (t["reading_ts"], math.inf))
                result[t["id"]] = (opened, t["reading_ts"] if t["transition"] == "cleared" else cleared)
        return result

    @property
    def start_ms(self) -> int:
        return self.report["device_start_ms"]

    @property
    def play_started_ms(self) -> float:
        """Wall epoch ms of scenario second 0, from the devices' own messages (median over devices)."""
        return statistics.median(self.wall_zero_ms.values())

    def wall_ms(self, scenario_s: float) -> float:
        return self.play_started_ms + scenario_s / self.spec.speed * 1000

    def seen(self, transitions: list[dict]) -> list[tuple]:
        """(subject, rule, level, device time in scenario seconds) of each transition, for messages."""
        return [(t["point"] or t["device"], t["rule"], t["level"], (self.device_ts(t) - self.start_ms) / 1000)
                for t in transitions]

    def device_ts(self, transition: dict) -> float:
        """The transition's reading time in device time: a will's (offline by status) is its arrival on
        the wall clock, converted back with its own device's messages."""
        if transition["rule"] != "offline" or transition.get("extra", {}).get("reason") != "status":
            return transition["reading_ts"]
        wall_zero = self.wall_zero_ms[(transition["enterprise"], transition["device"])]
        return self.start_ms + (transition["reading_ts"] - wall_zero) * self.spec.speed

    def in_window(self, truth: ExpectedAlarm, transition: dict, forbidden: bool = False) -> bool:
        """Whether the transition's reading time is inside ``truth``'s window (see WILL_JITTER_S)."""
        low, high = truth.window_ms(self.start_ms)
        if transition["reading_ts"] != self.device_ts(transition):
            jitter, delivery = WILL_JITTER_S * self.spec.speed * 1000, WILL_DELIVERY_S * self.spec.speed * 1000
            low, high = (low + jitter, high - jitter) if forbidden else (low - jitter, high + delivery)
        return low <= self.device_ts(transition) <= high


def matches(truth: ExpectedAlarm, transition: dict) -> bool:
    """Whether an alarm transition (wire.AlarmTransition) is the one ``truth`` describes, window aside.
    A ``point`` names the point (a site for a roll-up); a ``device`` without one, any of its alarms."""
    subject = transition["point"] == truth.point if truth.point else transition["device"] == truth.device
    return (subject and transition["enterprise"] == truth.enterprise and transition["rule"] == truth.rule
            and truth.level in (None, transition["level"]))


async def _watch_api(run: IsolatedPipeline, first_seen: dict[str, int], duty: officer.OfficerLog,
                     stop: asyncio.Event) -> None:
    while not stop.is_set():
        try:
            alarms = await run.alarms()
            for alarm in alarms:
                first_seen.setdefault(alarm["id"], int(time.time() * 1000))
            await officer.on_duty(run, alarms, duty)
        except (TimeoutError, OSError, aiohttp.ClientError):
            pass   # the API is only read; a refused poll is retried next second
        await asyncio.sleep(1.0)


async def _crash_and_restart(run: IsolatedPipeline, name: str, at_wall: float) -> None:
    await asyncio.sleep(max(0.0, at_wall - time.monotonic()))
    await asyncio.to_thread(run.supervisor.kill, name)
    await asyncio.sleep(RESTART_AFTER_S)
    {"rules": run.start_rules, "ingest": run.start_ingest}[name]()


async def _readings_topic(run: IsolatedPipeline, start_ms: int, speed: float) -> tuple[int, dict[tuple[str, str], float]]:
    """(readings on the run's readings topic, repeats included; per device the earliest wall epoch ms
    of scenario second 0 that any of its messages implies: arrival − its newest stamp's scenario time)."""
    count, zero = 0, {}
    async for record in run.records(run.names.readings):
        count += len(record["points"])
        key = (record["enterprise"], record["device"])
        implied = record["recv_ms"] - (max(record["ts"]) - start_ms) / speed
        zero[key] = min(zero.get(key, implied), implied)
    return count, zero


async def play(run: IsolatedPipeline, spec: RunSpec, scenario: Scenario, truth: Truth, registry: Registry) -> Outcome:
    """Play ``scenario`` on ``run``'s county as ``spec`` says and gather the outcome; stops the children."""
    scenario_file = write_scenario(scenario, run.home / "scenario")
    run.start_ingest()
    run.start_rules()
    run.start_alerting()
    run.start_recorder()
    await run.wait_started()
    first_seen: dict[str, int] = {}
    duty = officer.OfficerLog()
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_api(run, first_seen, duty, stop))
    county = ["--county", str(run.county_dir)] if spec.whole_county else []
    sim = run.sim(["run", *county, "--scenario", str(scenario_file), "--speed", str(spec.speed)])
    launched = time.monotonic()
    crashes = [asyncio.create_task(_crash_and_restart(run, "rules", launched + spec.kill_rules_at_s)),
               asyncio.create_task(_crash_and_restart(run, "ingest", launched + spec.kill_ingest_at_s))]
    out, _ = await asyncio.to_thread(sim.communicate)
    await asyncio.gather(*crashes)
    if sim.returncode != 0:
        raise RuntimeError(f"the simulator failed (exit {sim.returncode}), see {run.supervisor.log_dir}")
    report = orjson.loads(out.splitlines()[-1])
    whole = played(scenario, registry, report["device_start_ms"], spec.speed, spec.whole_county)
    sent = readings_sent(whole)
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and await run.influx_readings() < sent[2]:
        await asyncio.sleep(2.0)
    await asyncio.sleep(DEADLINE_S / 3)   # transitions of the last readings reach the API
    stop.set()
    await watcher
    api_alarms = await run.alarms()
    await officer.after_run(run, duty, next((e.enterprise, e.id) for e in registry if e.enterprise in scenario.enterprises))
    kafka_readings, wall_zero = await _readings_topic(run, report["device_start_ms"], spec.speed)
    outcome = Outcome(
        spec=spec, scenario=scenario, truth=truth, registry=registry, report=report,
        played=only(whole, scenario.enterprises), sent=sent, wall_zero_ms=wall_zero, first_seen_ms=first_seen,
        dead_children={c.name: c.log_tail() for c in run.supervisor.dead()},
        influx_readings=await run.influx_readings(), kafka_readings=kafka_readings,
        transitions=await run.transitions(), api_alarms=api_alarms,
        influx_ids={alarm_id for _, alarm_id in await run.influx_query("SELECT id FROM alarm")},
        influx_risk=await run.influx_query("SELECT level, enterprise FROM enterprise_risk"),
        api_risk={e: (await run.call("GET", f"/api/v1/enterprises/{e}/risk"))[1] for e in scenario.enterprises},
        officer=duty, ended_ms=int(time.time() * 1000))
    run.supervisor.stop_all()
    return outcome
