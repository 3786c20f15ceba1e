"""The end-to-end run: shipped scenarios played together on a county through an isolated pipeline
whose rules worker and ingest adapter are each SIGKILLed once mid-run and restarted, and what came
out of it (the simulator's report, the rules' committed transitions, the API's and InfluxDB's view)."""

from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass
from pathlib import Path

import orjson
import yaml

from device_sim.scenario import SCENARIO_DIR, ExpectedAlarm, Scenario, load_scenario
from tests.e2e.pipeline import IsolatedPipeline

# Limit levels with confirmation (and a spike that must not confirm), a fire event and a low_low
# pressure, a two-detector vote: three enterprises, one hour of device time each.
E2E_SCENARIOS = ("tank_overfill", "fire_and_pump", "gas_leak_vote")
OPENING = ("raised", "confirmed", "escalated")
SPEED = 40.0             # scenario seconds per wall second: one hour of device time in 90 s
KILL_RULES_AT_S = 20.0   # wall seconds after the devices start
KILL_INGEST_AT_S = 45.0
RESTART_AFTER_S = 2.0
DEADLINE_S = 30.0        # wall seconds from the end of an alarm's window (a restart included)
SETTLE_S = 120.0         # longest wait for InfluxDB to hold every reading after the devices stop


def combined_scenario(directory: Path, names: tuple[str, ...] = E2E_SCENARIOS) -> tuple[Path, Scenario]:
    """One scenario file holding the named scenarios' injections and ground truth."""
    parts = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in names]
    scenario = Scenario(name="e2e", description="端到端：" + "；".join(p.description for p in parts),
                        duration_s=max(p.duration_s for p in parts), seed=3,
                        enterprises=sorted({e for p in parts for e in p.enterprises}),
                        injections=[i for p in parts for i in p.injections],
                        expect=[a for p in parts for a in p.expect], forbid=[a for p in parts for a in p.forbid])
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "e2e.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), allow_unicode=True))
    return path, scenario


def matches(truth: ExpectedAlarm, transition: dict) -> bool:
    """Whether an alarm transition (wire.AlarmTransition) is the one ``truth`` describes, window aside."""
    subject = transition["point"] == truth.point if truth.point else transition["device"] == truth.device
    return (subject and transition["enterprise"] == truth.enterprise and transition["rule"] == truth.rule
            and truth.level in (None, transition["level"]))


def in_window(truth: ExpectedAlarm, transition: dict, start_ms: int) -> bool:
    low, high = truth.window_ms(start_ms)
    return low <= transition["reading_ts"] <= high


@dataclass
class CountyOutcome:
    truth: Scenario
    report: dict                    # the simulator's (device_sim.run.run_scenario)
    devices_started: float          # monotonic wall clock
    first_seen: dict[str, float]    # alarm id → when the API first showed it (monotonic)
    dead_children: dict[str, str]   # name → log tail of a child that exited on its own
    influx_readings: int
    kafka_readings: int
    transitions: list[dict]
    api_ids: list[str]              # as the API lists them (a repeat would show)
    influx_ids: set[str]

    @property
    def openings(self) -> list[dict]:
        return [t for t in self.transitions if t["transition"] in OPENING]


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


async def play_county(run: IsolatedPipeline) -> CountyOutcome:
    scenario_file, truth = combined_scenario(run.home / "scenario")
    run.start_ingest()
    run.start_rules()
    run.start_alerting()
    await run.wait_api()
    first_seen: dict[str, float] = {}
    stop = asyncio.Event()
    watcher = asyncio.create_task(_watch_api(run, first_seen, stop))
    sim = run.sim(["run", "--county", str(run.county_dir), "--scenario", str(scenario_file), "--speed", str(SPEED)])
    devices_started = time.monotonic()
    crashes = [asyncio.create_task(_crash_and_restart(run, "rules", devices_started + KILL_RULES_AT_S)),
               asyncio.create_task(_crash_and_restart(run, "ingest", devices_started + KILL_INGEST_AT_S))]
    out, _ = await asyncio.to_thread(sim.communicate)
    await asyncio.gather(*crashes)
    if sim.returncode != 0:
        raise RuntimeError(f"the simulator failed (exit {sim.returncode}), see {run.supervisor.log_dir}")
    report = orjson.loads(out.splitlines()[-1])
    deadline = time.monotonic() + SETTLE_S
    while time.monotonic() < deadline and await run.influx_readings() < report["readings"]:
        await asyncio.sleep(2.0)
    await asyncio.sleep(DEADLINE_S / 3)   # transitions of the last readings reach the API
    stop.set()
    await watcher
    return CountyOutcome(
        truth=truth, report=report, devices_started=devices_started, first_seen=first_seen,
        dead_children={c.name: c.log_tail() for c in run.supervisor.dead()},
        influx_readings=await run.influx_readings(), kafka_readings=await run.kafka_readings(),
        transitions=await run.transitions(), api_ids=[alarm["id"] for alarm in await run.alarms()],
        influx_ids={alarm_id for _, alarm_id in await run.influx_query("SELECT id FROM alarm")})
