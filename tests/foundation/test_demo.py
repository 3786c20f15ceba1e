"""The demo's pieces: its scenario files and the supervisor that starts and stops its processes."""

from __future__ import annotations

import time
from pathlib import Path

from device_sim.scenario import SCENARIO_DIR, load_scenario
from hzctl.demo import DEMO_SCENARIOS, Summary, demo_scenarios
from hzctl.supervisor import Supervisor


def test_demo_scenarios_play_the_shipped_ones_together_then_run_quietly(tmp_path: Path) -> None:
    warped, quiet = demo_scenarios(tmp_path)
    combined, realtime = load_scenario(warped), load_scenario(quiet)
    parts = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in DEMO_SCENARIOS]
    assert len(combined.injections) == sum(len(p.injections) for p in parts)
    assert combined.duration_s == max(p.duration_s for p in parts)
    assert set(combined.enterprises) == {e for p in parts for e in p.enterprises}
    assert realtime.injections == [] and set(realtime.enterprises) == set(combined.enterprises)


def test_summary_rate_counts_readings_per_second() -> None:
    summary = Summary()
    summary.readings.append((100.0, 0))
    summary.readings.append((102.0, 500))
    summary.total_readings = 500
    assert summary.rate() == 250.0


def test_supervisor_starts_and_stops_only_its_children(tmp_path: Path) -> None:
    supervisor = Supervisor(tmp_path / "logs")
    quick = supervisor.start("check", ["registry", "check"])
    assert quick.process.wait(60) == 0
    assert "OK" in quick.log_file.read_text()
    long_running = supervisor.start("stack-logs", ["stack", "logs", "--follow"])
    time.sleep(1)
    assert long_running.alive and [c.name for c in supervisor.dead()] == ["check"]
    supervisor.stop_all(timeout_s=10)
    assert not long_running.alive
