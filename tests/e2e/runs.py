"""What the end-to-end runs play: scenario files combined into one per run, shifted in time where two
of them disturb the same enterprise, on a county whose enterprise ids are this run's own.

Two runs: ``county`` (every device of a 23-enterprise county, three hours of device time at 120×)
and ``tailings`` (the mine's gateway alone, twenty hours at 960×, for the slow tailings scenarios).
The ground truth is the scenario files' own, moved with their injections; ``site:`` entries in
``tests/e2e/scenarios`` (roll-up alarms, whose subject device_sim's format cannot name) join it.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple

import yaml

from device_sim.scenario import SCENARIO_DIR, ExpectedAlarm, Scenario
from hazmon.secrets import Secrets
from hazmon.settings import PACKAGE_DIR, Settings
from hzctl.stack.mosquitto import register_enterprises
from testbed.pipeline import IsolatedPipeline

E2E_SCENARIO_DIR = Path(__file__).resolve().parent / "scenarios"
TIME_KEYS = ("at_s", "until_s", "from_s", "to_s")   # what a shift moves; durations stay
COMBINED_SEED = 3
ESCALATE_AFTER_S = (300.0, 900.0)   # §8: to the county duty desk, to the prefecture (device time)


@dataclass(frozen=True)
class Part:
    """One scenario file, played ``shift_s`` scenario seconds after the run starts."""

    name: str
    shift_s: float = 0.0
    directory: Path = SCENARIO_DIR


@dataclass(frozen=True)
class RunSpec:
    name: str
    parts: tuple[Part, ...]
    speed: float              # scenario seconds per wall second
    whole_county: bool        # every device of the county, or only the scenarios' enterprises
    kill_rules_at_s: float    # wall seconds after the simulator starts: SIGKILL, restart 2 s later
    kill_ingest_at_s: float

    @property
    def escalate_s(self) -> tuple[float, float]:
        """§8's 5 and 15 minutes before an unacknowledged alarm escalates, on the wall clock at this speed."""
        return ESCALATE_AFTER_S[0] / self.speed, ESCALATE_AFTER_S[1] / self.speed


@dataclass(frozen=True)
class Truth:
    """The combined ground truth: the scenario's ``expect``/``forbid`` and the sites' (``point`` = site id)."""

    expect: list[ExpectedAlarm]
    forbid: list[ExpectedAlarm]


# Limits, a spike, fire and controller events, a vote, roll-up and a dry beach's step (no trend) in the first
# hour; sensor faults, the controller's fault and recorded events and a gateway dropping off (its
# will) in the second and third; transport faults in the third. Kills: the rules worker at device
# ~3400 s, while the pond is red (since 2400 s) and its two points orange: the restarted worker must
# not repeat them and must clear them at ~4800 s from restored state, and the red's wall time to the
# prefecture's step does not shrink by however long the restart takes (18 s on a slow machine: a
# kill before 2400 s emitted the red so late that it missed that step). Ingest at ~7600 s, clear of
# the will at 5400 s, which ingest stamps on arrival (an outage then would stamp it late, ×120).
COUNTY = RunSpec("county", (Part("tank_overfill"), Part("fire_and_pump"), Part("gas_leak_vote"),
                            Part("tailings_rollup", directory=E2E_SCENARIO_DIR), Part("sensor_faults", 3600),
                            Part("device_offline", 3600), Part("controller_events", 3600, E2E_SCENARIO_DIR),
                            Part("transport_faults", 7200)),
                 speed=120.0, whole_county=True, kill_rules_at_s=28.0, kill_ingest_at_s=65.0)
# Rainfall, flood levels and a trend by rate; the dam's creep after the flood's forbidden window
# for its displacement points (tailings_flood forbids DS1 alarms until 43 200 s).
TAILINGS = RunSpec("tailings", (Part("tailings_flood"), Part("dam_creep", 14400)),
                   speed=960.0, whole_county=False, kill_rules_at_s=20.0, kill_ingest_at_s=45.0)
RUNS = {spec.name: spec for spec in (COUNTY, TAILINGS)}


def _moved(item: Any, shift_s: float, ids: dict[str, str]) -> Any:
    """``item`` (a scenario's dumped YAML) with its times shifted and its enterprise ids renamed."""
    if isinstance(item, dict):
        return {k: v + shift_s if k in TIME_KEYS and v is not None else _moved(v, shift_s, ids) for k, v in item.items()}
    if isinstance(item, list):
        return [_moved(v, shift_s, ids) for v in item]
    return ids.get(item, item) if isinstance(item, str) else item


def _site_truth(entries: list[dict]) -> list[ExpectedAlarm]:
    return [ExpectedAlarm.model_validate({**{k: v for k, v in e.items() if k != "site"}, "point": e["site"]})
            for e in entries if "site" in e]


def combined(spec: RunSpec, ids: dict[str, str]) -> tuple[Scenario, Truth]:
    """The run's scenario (what the simulator plays) and its whole ground truth, enterprises renamed by ``ids``."""
    documents = []
    for part in spec.parts:
        document = yaml.safe_load((part.directory / f"{part.name}.yaml").read_text(encoding="utf-8"))
        documents.append(_moved(document, part.shift_s, ids) | {"duration_s": document["duration_s"] + part.shift_s})
    merged: dict[str, Any] = {"name": f"e2e-{spec.name}", "seed": COMBINED_SEED,
                              "description": "端到端：" + "；".join(d["description"] for d in documents),
                              "duration_s": max(d["duration_s"] for d in documents),
                              "enterprises": sorted({e for d in documents for e in d["enterprises"]})}
    merged["injections"] = [injection for d in documents for injection in d.get("injections", [])]
    for key in ("expect", "forbid"):
        merged[key] = [entry for d in documents for entry in d.get(key, []) if "site" not in entry]
    scenario = Scenario.model_validate(merged)
    sites = {key: _site_truth([entry for d in documents for entry in d.get(key, [])]) for key in ("expect", "forbid")}
    return scenario, Truth(scenario.expect + sites["expect"], scenario.forbid + sites["forbid"])


def write_scenario(scenario: Scenario, directory: Path) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / f"{scenario.name}.yaml"
    path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), allow_unicode=True))
    return path


def isolated_county(source: Path, out: Path, suffix: str) -> dict[str, str]:
    """Copy the registry ``source`` to ``out`` with every enterprise id suffixed; returns old → new id.

    The broker is shared: other runs' devices (and their retained status messages) use the plain
    ids, and ingest subscribes to every enterprise's topics. Ids of this run's own keep them apart.
    """
    out.mkdir(parents=True, exist_ok=True)
    ids = {}
    for path in sorted(source.glob("*.yaml")):
        document = yaml.safe_load(path.read_text(encoding="utf-8"))
        old = document["enterprise"]["id"]
        ids[old] = document["enterprise"]["id"] = f"{old}-{suffix}"
        (out / f"{ids[old]}.yaml").write_text(yaml.safe_dump(document, allow_unicode=True), encoding="utf-8")
    return ids


class SampleCounty(NamedTuple):
    run: IsolatedPipeline
    ids: dict[str, str]    # the sample registry's enterprise id → this run's
    secrets: Secrets       # the broker accounts of this run's enterprises


def sample_county(settings: Settings, tmp_path: Path, unique: str, *enterprises: str) -> SampleCounty:
    """The sample registry as a county of this run's own (``tmp_path/county``, ids suffixed with
    ``unique``, broker accounts granted) and an isolated pipeline over it (home ``tmp_path/home``)
    whose load and alarms concern ``enterprises`` (sample ids)."""
    ids = isolated_county(PACKAGE_DIR / "sample_registry", tmp_path / "county", unique)
    secrets = register_enterprises(settings, tmp_path / "county")
    run = IsolatedPipeline(settings, tmp_path / "home", tmp_path / "county", unique, secrets.duty_token,
                           enterprises=tuple(ids[e] for e in enterprises))
    return SampleCounty(run, ids, secrets)
