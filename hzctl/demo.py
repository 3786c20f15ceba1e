"""``hazmon demo``: the whole platform on this machine, with a simulated county, in one command.

Brings the local stack up, generates a county (default 30 enterprises across the three domains),
gives its enterprises broker accounts, starts ingest, the rules worker, alerting (API and duty desk), the
recorder (everything into InfluxDB) and the simulated devices, makes a demo officer's desk account (``duty``, a new password printed once), then
shows a live console summary in the desk's words (names, not codes) until Ctrl-C, which stops everything
it started and nothing else.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import signal
import sys
import time
from collections import Counter, deque
from dataclasses import dataclass, field
from pathlib import Path
from secrets import token_urlsafe

import aiohttp
import orjson
from aiokafka import AIOKafkaConsumer

from hazmon import topics
from hazmon.settings import Settings, get_settings
from hzctl.supervisor import Supervisor

COLOR_NAMES = {"zh": {"red": "红", "orange": "橙", "yellow": "黄", "blue": "蓝"},
               "en": {"red": "red", "orange": "orange", "yellow": "yellow", "blue": "blue"}}


@dataclass
class Summary:
    """What the console shows, refreshed from Kafka (readings) and the API (alarms, colours)."""

    readings: deque[tuple[float, int]] = field(default_factory=lambda: deque(maxlen=64))
    total_readings: int = 0
    enterprise_colors: Counter[str] = field(default_factory=Counter)
    open_by_kind: Counter[str] = field(default_factory=Counter)   # open alarms by the desk's word (火警, 二级报警…)
    newest: list[str] = field(default_factory=list)                # the newest alarms, one line each, in words
    api_problem: str | None = None

    def add_readings(self, count: int) -> None:
        self.total_readings += count
        self.readings.append((time.monotonic(), self.total_readings))

    def rate(self) -> float:
        if len(self.readings) < 2:
            return 0.0
        (t0, n0), (t1, n1) = self.readings[0], self.readings[-1]
        return (n1 - n0) / (t1 - t0) if t1 > t0 else 0.0


async def _count_readings(settings: Settings, summary: Summary) -> None:
    consumer = AIOKafkaConsumer(topics.READINGS, bootstrap_servers=settings.kafka_bootstrap,
                                group_id=None, auto_offset_reset="latest", enable_auto_commit=False)
    await consumer.start()
    try:
        while True:
            batches = await consumer.getmany(timeout_ms=1000, max_records=5000)
            summary.add_readings(sum(len(orjson.loads(m.value)["points"]) for msgs in batches.values() for m in msgs))
    finally:
        await consumer.stop()


async def _alarm_view(http: aiohttp.ClientSession, base: str, alarm_id: str) -> dict:
    """One alarm's ``view`` as the API composes it (§10: names, units, the desk's words)."""
    async with http.get(f"{base}/api/v1/alarms/{alarm_id}") as response:
        return (await response.json())["view"]


def alarm_line(view: dict) -> str:
    """``[状态：未签收] 火警 永顺县人民医院 / 1号楼: 1号楼3层东走廊火警`` from an alarm's view."""
    rows = {row["field"]: row["text"] for row in view["rows"]}
    place = " / ".join(rows[k] for k in ("enterprise", "site", "point") if k in rows)
    return f"  [{view['state']}] {rows.get('severity', '')} {place}: {rows.get('message', '')}"


async def poll_api(token: str, enterprises: list[str], summary: Summary, base: str) -> None:
    """Every 2 s until cancelled: open alarms by kind, the five newest, the enterprises' colours. The listing
    carries codes; the words come from the alarms' views (one per kind, kept)."""
    headers = {"Authorization": f"Bearer {token}"}
    kind_words: dict[tuple[str, str | None], str] = {}
    async with aiohttp.ClientSession(headers=headers, timeout=aiohttp.ClientTimeout(total=5)) as http:
        while True:
            try:
                async with http.get(f"{base}/api/v1/alarms") as response:
                    alarms = (await response.json())["alarms"]
                colors: Counter[str] = Counter()
                for enterprise in enterprises:
                    async with http.get(f"{base}/api/v1/enterprises/{enterprise}/risk") as response:
                        colors[(await response.json())["color"]] += 1
                open_alarms = [a for a in alarms if a["state"] in ("active", "acknowledged")]
                for alarm in open_alarms:
                    kind = (alarm["rule"], alarm.get("level"))
                    if kind not in kind_words:
                        rows = (await _alarm_view(http, base, alarm["id"]))["rows"]
                        kind_words[kind] = next((r["text"] for r in rows if r["field"] == "severity"), "")
                newest = sorted(alarms, key=lambda a: a["started_at"], reverse=True)[:5]
                lines = [alarm_line(await _alarm_view(http, base, a["id"])) for a in newest]
            except (TimeoutError, aiohttp.ClientError, KeyError, ValueError) as exc:
                summary.api_problem = f"{type(exc).__name__}: {exc}"
            else:
                summary.api_problem = None
                summary.open_by_kind = Counter(kind_words[(a["rule"], a.get("level"))] for a in open_alarms)
                summary.enterprise_colors = colors
                summary.newest = lines
            await asyncio.sleep(2)


async def demo_officer(home: Path, name: str = "duty") -> str:
    """The desk account ``name`` (role duty, 演示值班员) with a new random password, returned to be printed once.

    Made by ``hazmon users`` in a child process, as an operator would (hazmon/ does not import the stages); an
    account left by an earlier demo gets the new password instead (its old sessions end)."""
    password = token_urlsafe(12)
    base = [sys.executable, "-m", "hzctl.cli", "users"]
    env = {**os.environ, "HAZMON_HOME": str(home)}
    for argv in ([*base, "add", name, "--role", "duty", "--display-name", "演示值班员", "--password-stdin"],
                 [*base, "passwd", name, "--password-stdin"]):
        child = await asyncio.create_subprocess_exec(*argv, stdin=asyncio.subprocess.PIPE, stdout=asyncio.subprocess.PIPE,
                                                     stderr=asyncio.subprocess.STDOUT, env=env)
        output, _ = await child.communicate(f"{password}\n".encode())
        if child.returncode == 0:
            return password
    raise RuntimeError(f"the demo officer's account was not made: {output.decode(errors='replace').strip()}")


def _render(summary: Summary, language: str, started: float, where: list[str], supervisor: Supervisor) -> str:
    names = COLOR_NAMES[language]
    zh = language == "zh"
    colors = "  ".join(f"{names[c]} {summary.enterprise_colors.get(c, 0)}" for c in ("red", "orange", "yellow", "blue"))
    kinds = ", ".join(f"{k} {v}" for k, v in summary.open_by_kind.most_common()) or "-"
    lines = [
        f"{'运行' if zh else 'running'} {time.monotonic() - started:6.0f} s   "
        f"{'读数/秒' if zh else 'readings/s'} {summary.rate():8.0f}   {'读数累计' if zh else 'readings'} {summary.total_readings}",
        f"{'企业风险' if zh else 'enterprise risk'}: {colors}",
        f"{'未闭环报警' if zh else 'open alarms'}: {kinds}",
    ]
    if summary.api_problem:
        lines.append(f"API: {summary.api_problem}")
    lines.extend(summary.newest)
    dead = supervisor.dead()
    for child in dead:
        lines.append(f"!! {child.name} exited: see {child.log_file}")
    return "\n".join(lines + where)


DEMO_SCENARIOS = ("tank_overfill", "fire_and_pump", "tailings_flood", "gas_leak_vote")


def demo_scenarios(home: Path) -> tuple[Path, Path]:
    """Two scenario files under ``home/demo``: the shipped demo scenarios played together (time-warped)
    (their enterprises differ, so their injections do not meet), and a quiet real-time run that
    follows it (device time goes on forward from where the warped run ended)."""
    import yaml

    from device_sim.scenario import SCENARIO_DIR, Scenario, load_scenario

    parts = [load_scenario(SCENARIO_DIR / f"{name}.yaml") for name in DEMO_SCENARIOS]
    enterprises = sorted({e for part in parts for e in part.enterprises})
    combined = Scenario(name="demo", description="演示：储罐超限、火警与消防泵、尾矿库洪水、可燃气体泄漏",
                        duration_s=max(p.duration_s for p in parts), seed=1, enterprises=enterprises,
                        injections=[i for p in parts for i in p.injections])
    quiet = Scenario(name="demo-realtime", description="演示：实时运行", duration_s=7 * 86400, seed=2,
                     enterprises=enterprises)
    directory = home / "demo"
    directory.mkdir(parents=True, exist_ok=True)
    files = []
    for scenario in (combined, quiet):
        path = directory / f"{scenario.name}.yaml"
        path.write_text(yaml.safe_dump(scenario.model_dump(mode="json", exclude_none=True), allow_unicode=True))
        files.append(path)
    return files[0], files[1]


async def _wait_api(settings: Settings, supervisor: Supervisor, timeout_s: float) -> None:
    url = f"http://{settings.api_host}:{settings.api_port}/healthz"
    deadline = time.monotonic() + timeout_s
    async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=2)) as http:
        while time.monotonic() < deadline:
            for name in ("alerting", "recorder"):
                if not supervisor.children[name].alive:
                    raise RuntimeError(f"{name} exited:\n{supervisor.children[name].log_tail()}")
            with contextlib.suppress(aiohttp.ClientError, asyncio.TimeoutError):
                async with http.get(url) as response:
                    if response.status == 200:
                        return
            await asyncio.sleep(0.5)
    raise RuntimeError(f"the API did not answer {url} within {timeout_s:.0f} s")


async def _console(settings: Settings, supervisor: Supervisor, summary: Summary, where: list[str],
                   quiet_scenario: Path, county_dir: Path, stop: asyncio.Event) -> None:
    started = time.monotonic()
    went_realtime = False
    while not stop.is_set():
        sim = supervisor.children["sim"]
        if not sim.alive and not went_realtime and sim.process.returncode == 0:
            supervisor.start("sim", ["sim", "run", "--county", str(county_dir), "--scenario", str(quiet_scenario),
                                     "--speed", "1"])
            went_realtime = True
        print("\033[2J\033[H" + _render(summary, settings.language, started, where, supervisor), flush=True)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(2):
                await stop.wait()


async def _run(settings: Settings, args: argparse.Namespace) -> None:
    from dashboards.locations import write_locations
    from device_sim.county import county_with_sample
    from hazmon.registry import load_registry
    from hazmon.settings import PACKAGE_DIR
    from hzctl.stack.mosquitto import register_enterprises

    sample = PACKAGE_DIR / "sample_registry"
    generated = max(0, args.enterprises - len(list(sample.glob("*.yaml"))))
    county_dir = county_with_sample(settings.home, generated, args.seed, sample)
    secrets = register_enterprises(settings, county_dir)
    registry = load_registry(county_dir)
    await write_locations(registry, settings.influx_url, settings.influx_db, settings.influx_headers)
    warped, quiet = demo_scenarios(settings.home)
    supervisor = Supervisor(settings.home / "logs" / "demo", env={"HAZMON_REGISTRY_DIR": str(county_dir)})
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(signum, stop.set)
    try:
        supervisor.start("ingest", ["ingest", "run"])
        supervisor.start("rules", ["rules", "worker"])
        supervisor.start("alerting", ["alerting", "run"])
        supervisor.start("recorder", ["recorder", "run"])
        print("[demo] waiting for the API …", flush=True)
        await _wait_api(settings, supervisor, 90)
        supervisor.start("sim", ["sim", "run", "--county", str(county_dir), "--scenario", str(warped),
                                 "--speed", str(args.speed)])
        api = f"http://{settings.api_host}:{settings.api_port}"
        password = await demo_officer(settings.home)
        where = [
            "",
            f"duty desk:       {(settings.alerting_public_url or api).rstrip('/')}/desk   account duty, password {password} "
            "(new at every demo; ./hz users passwd duty)",
            f"county registry: {county_dir} ({len(registry.enterprises)} enterprises, {len(registry.points)} points)",
            f"API:             {api}/api/v1/alarms   (Authorization: Bearer {secrets.duty_token})",
            f"alarm page:      {api}/alarms/<id>      OpenAPI: {api}/api/v1/openapi.json",
            f"InfluxDB:        {settings.influx_url}  database {settings.influx_db} (reading, alarm, enterprise_risk)",
            "Grafana:         ./hz dashboards push --grafana-url URL --token T   (dashboards/generated/)",
            f"logs:            {supervisor.log_dir}   servers: ./hz stack logs",
            "Ctrl-C stops the demo's processes (the servers keep running: ./hz stack down)",
        ]
        summary = Summary()
        enterprises = sorted(registry.enterprises)
        tasks = [asyncio.create_task(_count_readings(settings, summary)),
                 asyncio.create_task(poll_api(secrets.duty_token, enterprises, summary, api))]
        try:
            await _console(settings, supervisor, summary, where, quiet, county_dir, stop)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)
    finally:
        print("[demo] stopping ingest, rules, alerting, the recorder and the simulator …", flush=True)
        await asyncio.to_thread(supervisor.stop_all)
        print("[demo] stopped", flush=True)


def _demo(args: argparse.Namespace) -> int:
    from hzctl.stack.installer import InstallError
    from hzctl.stack.manager import StackError, up

    settings = get_settings()
    try:
        up(settings)
    except (StackError, InstallError) as exc:
        print(f"[demo] the local stack did not come up: {exc}")
        return 1
    try:
        asyncio.run(_run(settings, args))
    except RuntimeError as exc:
        print(f"[demo] FAILED: {exc}")
        return 1
    return 0


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser("demo", help="the whole platform with a simulated county, live summary (Ctrl-C stops)")
    parser.add_argument("--enterprises", type=int, default=30, help="enterprises in the simulated county (default 30)")
    parser.add_argument("--seed", type=int, default=7, help="seed of the simulated county")
    parser.add_argument("--speed", type=float, default=60.0,
                        help="time warp of the scenario phase (scenario seconds per wall second); real time after it")
    parser.set_defaults(handler=_demo)
