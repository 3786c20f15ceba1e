"""The whole pipeline on this machine: `hazmon sim load` → Mosquitto → ingest → Kafka → rules → alerting
→ InfluxDB and a local webhook receiver, at an offered rate of readings/s.

Reports the sustained readings/s end to end (readings the rules worker and alerting's InfluxDB writer
have both consumed, over the time from the first publish until both caught up), the alarm latency
(from the publish of the reading that completes a confirmation to the webhook notification
arriving; p50, p99), CPU and peak RSS of each process, and a ceiling measured in the same run: a
bare aiomqtt → aiokafka pass-through (bench/ingest.py) of the same 10-reading messages. Without
--rate, a sweep of rates and a PNG plot (matplotlib). The last stdout line is one JSON object.

Usage: .venv/bin/python bench/pipeline.py --rate 1000 --seconds 60
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path

import numpy as np
import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import bare_rate, bench_registry, payload_lines  # noqa: E402
from device_sim.county import county_with_sample  # noqa: E402
from device_sim.load import load_devices  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.secrets import Secrets  # noqa: E402
from hazmon.settings import PACKAGE_DIR, Settings, get_settings  # noqa: E402
from hazmon.stack.mosquitto import register_enterprises  # noqa: E402
from tests.e2e.pipeline import IsolatedPipeline, spare_port, topic_partitions  # noqa: E402

READINGS_PER_MESSAGE = 10
CONNECTIONS = 40
INJECTION_EVERY_S = 2.0
GENERATED_ENTERPRISES = 60
SWEEP_RATES = (1000, 5000, 10000, 20000, 30000)


class WebhookReceiver:
    """Records when each alarm's notification (webhook format) arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, float] = {}
        self.port = spare_port()

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        for change in (await request.json())["changes"]:
            self.arrived.setdefault(change["alarm"]["point"] + "@" + change["alarm"]["enterprise"], now)
        return web.Response(text="ok")

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


def injection_targets(county_dir: Path) -> list[tuple[str, str, str, float, float, float]]:
    """(enterprise, device, point, high threshold, period_s, confirm_s) of points with an upper limit on
    devices the load does not drive (their values would interleave with the injected ones)."""
    loaded = {(e, d) for e, d, _ in load_devices(county_dir, CONNECTIONS)}
    registry = load_registry(county_dir)
    targets = []
    for enterprise in sorted(registry.enterprises):
        for device, entries in sorted(registry.devices(enterprise).items()):
            if (enterprise, device) in loaded:
                continue
            upper = [(e, limit) for e in entries if e.limits.form == "two_level"
                     for limit in e.limits.limits if limit.direction == "above"]
            if upper:
                entry, limit = upper[0]
                targets.append((enterprise, device, entry.id, limit.threshold, entry.point.period_s, entry.limits.confirm_s))
    return targets


async def inject_alarms(settings: Settings, secrets: Secrets, targets: list, seconds: float) -> dict[str, float]:
    """Every INJECTION_EVERY_S, one message whose readings stay beyond a point's limit for its whole
    confirmation time, the last reading stamped now: it completes the confirmation as it is published."""
    import aiomqtt

    published: dict[str, float] = {}
    started = time.monotonic()
    for enterprise, device, point, threshold, period_s, confirm_s in targets:
        if time.monotonic() - started > seconds:
            break
        now_ms = int(time.time() * 1000)
        steps = int(confirm_s // period_s) + 1
        readings = [{"point": point, "value": threshold * 1.5 + 1, "ts": now_ms - int((steps - i) * period_s * 1000)}
                    for i in range(steps + 1)]
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, identifier=f"bench-inj-{uuid.uuid4().hex[:6]}",
                                  username=enterprise, password=secrets.enterprise(enterprise).mqtt_password,
                                  protocol=aiomqtt.ProtocolVersion.V5) as client:
            await client.publish(f"hazmon/v1/{enterprise}/{device}/telemetry",
                                 orjson.dumps({"v": 1, "ts": now_ms, "readings": readings}), qos=1)
            published[f"{point}@{enterprise}"] = time.monotonic()
        await asyncio.sleep(INJECTION_EVERY_S)
    return published


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1], utime [11], stime [12])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def family(pid: int) -> list[int]:
    """``pid`` and its descendants (``hazmon rules worker`` runs its Faust worker as a child)."""
    parents = {int(p.name): int(f[1]) for p in Path("/proc").iterdir() if p.name.isdigit() and (f := _stat(int(p.name)))}
    found = [pid]
    for candidate, parent in sorted(parents.items()):
        if parent in found:
            found.append(candidate)
    return found


def cpu_seconds(pid: int) -> float:
    return sum(int(f[11]) + int(f[12]) for f in map(_stat, family(pid)) if f) / os.sysconf("SC_CLK_TCK")


def rss_bytes(pid: int) -> int:
    total = 0
    for member in family(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text().splitlines()
        except FileNotFoundError:
            continue
        total += sum(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    return total


class ResourceSampler:
    """CPU use and peak RSS of each child process (from /proc), sampled once a second."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak_rss = dict.fromkeys(pids, 0)
        self.cpu_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.started = time.monotonic()

    async def run(self) -> None:
        while True:
            for name, pid in self.pids.items():
                self.peak_rss[name] = max(self.peak_rss[name], rss_bytes(pid))
            await asyncio.sleep(1.0)

    def figures(self) -> dict[str, dict[str, float]]:
        elapsed = time.monotonic() - self.started
        return {name: {"cpu_percent": round(100 * (cpu_seconds(pid) - self.cpu_start[name]) / elapsed, 1),
                       "peak_rss_mb": round(self.peak_rss[name] / 2**20, 1)} for name, pid in self.pids.items()}


async def group_lag(settings: Settings, group: str, topic_ends: dict) -> int:
    admin = AIOKafkaAdminClient(bootstrap_servers=settings.kafka_bootstrap)
    await admin.start()
    try:
        committed = await admin.list_consumer_group_offsets(group)
    finally:
        await admin.close()
    return sum(end - (committed[tp].offset if tp in committed and committed[tp].offset >= 0 else 0)
               for tp, end in topic_ends.items())


async def ceiling(settings: Settings, seconds: float) -> float:
    """Readings/s of a bare MQTT → Kafka pass-through of 10-reading messages (no checks, no rules)."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "registry").mkdir()
        bench_registry(directory / "registry")
        secrets = register_enterprises(settings, directory / "registry")
        await asyncio.sleep(1)
        lines = payload_lines(directory, "ceiling", int(seconds * 3000) + 1000, READINGS_PER_MESSAGE)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all", linger_ms=5)
        await producer.start()
        try:
            return READINGS_PER_MESSAGE * await bare_rate(settings, secrets, lines, seconds, producer)
        finally:
            await producer.stop()


async def measure(rate: float, seconds: float, root: Path) -> dict:
    settings = get_settings()
    ceiling_rps = await ceiling(settings, min(10.0, seconds / 3))
    county_dir = county_with_sample(root, GENERATED_ENTERPRISES, 5, PACKAGE_DIR / "sample_registry")
    secrets = register_enterprises(settings, county_dir)
    receiver = WebhookReceiver()
    web_runner = await receiver.start()
    run = IsolatedPipeline(settings, root / f"home-{int(rate)}", county_dir, uuid.uuid4().hex[:10], secrets.duty_token,
                           (f"http://127.0.0.1:{receiver.port}/hook",))
    await run.create_topics()
    try:
        run.start_ingest()
        run.start_rules()
        run.start_alerting()
        await run.wait_api()
        await asyncio.sleep(15)   # the rules worker joins its group
        sampler = ResourceSampler({c.name: c.process.pid for c in run.supervisor.children.values()})
        sampling = asyncio.create_task(sampler.run())
        load = run.sim(["load", "--county", str(county_dir), "--connections", str(CONNECTIONS),
                        "--rate", str(rate / READINGS_PER_MESSAGE), "--seconds", str(seconds),
                        "--readings", str(READINGS_PER_MESSAGE), "--run-id", run.unique])
        published = await inject_alarms(settings, secrets, injection_targets(county_dir), seconds - 5)
        out, _ = await asyncio.to_thread(load.communicate)
        load_ended = time.monotonic()
        report = orjson.loads(out.splitlines()[-1])
        caught_up = await wait_caught_up(run, deadline_s=120)
        sampling.cancel()
        await asyncio.sleep(3)   # the last notifications
        latencies = np.array([receiver.arrived[k] - t for k, t in published.items() if k in receiver.arrived])
        consumed = await run.kafka_readings()
        return {
            "offered_readings_per_s": rate, "seconds": seconds,
            "published_readings_per_s": report["readings_per_s"],
            "sustained_readings_per_s": round(consumed / (report["seconds"] + caught_up - load_ended), 1),
            "backlog_drain_s": round(caught_up - load_ended, 1),
            "p50_alarm_latency_s": round(float(np.percentile(latencies, 50)), 3) if len(latencies) else None,
            "p99_alarm_latency_s": round(float(np.percentile(latencies, 99)), 3) if len(latencies) else None,
            "alarms_injected": len(published), "alarms_notified": len(latencies),
            "ceiling_passthrough_readings_per_s": round(ceiling_rps), "processes": sampler.figures(),
            "dead_children": [c.name for c in run.supervisor.dead()],
        }
    finally:
        await asyncio.to_thread(run.supervisor.stop_all)
        await run.drop_database()
        await web_runner.cleanup()


async def wait_caught_up(run: IsolatedPipeline, deadline_s: float) -> float:
    """Monotonic time at which the rules worker and alerting's reading writer have consumed the whole topic."""
    consumer = AIOKafkaConsumer(bootstrap_servers=run.settings.kafka_bootstrap)
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(await topic_partitions(consumer, run.readings)))
    finally:
        await consumer.stop()
    give_up = time.monotonic() + deadline_s
    groups = (run.env["HAZMON_RULES_APP_ID"], run.env["HAZMON_ALERTING_GROUP"] + "-readings")
    while time.monotonic() < give_up:
        lags = [await group_lag(run.settings, group, ends) for group in groups]
        if not any(lags):
            return time.monotonic()
        await asyncio.sleep(0.5)
    raise RuntimeError(f"backlog not drained within {deadline_s} s")


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offered = [r["offered_readings_per_s"] for r in results]
    fig, (left, right) = plt.subplots(1, 2, figsize=(10, 4))
    left.plot(offered, [r["sustained_readings_per_s"] for r in results], "o-", label="sustained")
    left.plot(offered, offered, "--", label="offered")
    left.set_xlabel("offered readings/s")
    left.legend()
    right.plot(offered, [r["p50_alarm_latency_s"] for r in results], "o-", label="p50")
    right.plot(offered, [r["p99_alarm_latency_s"] for r in results], "o-", label="p99")
    right.set_xlabel("offered readings/s")
    right.set_ylabel("alarm latency s")
    right.legend()
    fig.savefig(path)


async def main(rate: float | None, seconds: float, plot_path: Path) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        if rate is not None:
            return await measure(rate, seconds, Path(tmp))
        results = [await measure(r, seconds, Path(tmp)) for r in SWEEP_RATES]
    plot(results, plot_path)
    best = max(results, key=lambda r: r["sustained_readings_per_s"])
    return {**best, "sweep": results, "plot": str(plot_path)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, help="offered readings/s; without it, a sweep with a plot")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration per rate")
    parser.add_argument("--plot", type=Path, default=Path("bench/pipeline.png"), help="PNG of the sweep")
    args = parser.parse_args()
    print(orjson.dumps(asyncio.run(main(args.rate, args.seconds, args.plot))).decode())
