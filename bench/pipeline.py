"""The whole pipeline on this machine: `hazmon sim load` → Mosquitto → ingest → Kafka → rules → alerting
→ InfluxDB and a local webhook receiver, at an offered rate of readings/s.

Reports the sustained readings/s end to end (readings in Kafka over the time from the first publish
until the rules worker and alerting's InfluxDB writer have both committed the whole topic), the
alarm latency (from the publish of the reading that completes a confirmation to the webhook
notification arriving; p50, p99; and split in three from what the records carry: before the rules (publish →
the Kafka record time of the readings batch that carried it; of it, publish → ingest's ``recv_ms``), the rules
(record time → the transition's ``emitted_ms``, the webhook's ``updated_at``) and after the rules (emitted →
webhook)), readings published against readings in Kafka (loss), the rules
worker's consumer lag sampled every 5 s (peak, and its growth over the second half of the load:
a growing backlog shows as a positive slope), CPU and peak RSS of each process, CPU-seconds per million
readings published of each hazmon process, of hazmon's together, of each server of the local stack (Mosquitto,
Kafka, InfluxDB: shared with whatever else runs on the machine) and of the load generator apart (its own
account of its publishing), and a ceiling
measured in the same run: what a bare paho subscriber takes from the broker of the same
messages (bench/ingest.py's ceiling). ``--failover`` runs two rules workers and SIGKILLs one halfway: the time
until every partition commits again and until the lag is back to its pre-kill level. ``--ingest-processes``,
``--rules-processes`` scale out (shared subscriptions, partitions) and report each process's share
(``scale_out``: the messages each ingest took, the partitions and readings of each rules worker, each one's
readings/s and CPU-seconds per million of its own readings); ``--load-processes`` splits the load generator
(``load_processes``: each one's published rate and CPU). Without --rate, a sweep of rates and a PNG plot
(matplotlib). The last stdout line is one JSON object.

Usage: .venv/bin/python bench/pipeline.py --rate 1000 --seconds 60
       .venv/bin/python bench/pipeline.py --rate 20000 --seconds 600 --alarm-every 2.8   # the soak, 210 alarms over it
       .venv/bin/python bench/pipeline.py --rate 20000 --seconds 60 --alarm-every 0.25   # 210 alarms in a minute
       .venv/bin/python bench/pipeline.py --rate 5000 --seconds 60 --failover
       .venv/bin/python bench/pipeline.py --rate 60000 --seconds 300 --readings-per-message 50   # the burst
       .venv/bin/python bench/pipeline.py --rate 60000 --seconds 60 --load-processes 2   # 60 000/s at 10 a message
       .venv/bin/python bench/pipeline.py --rate 40000 --seconds 60 --ingest-processes 2 --rules-processes 2
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import re
import subprocess
import sys
import tempfile
import time
import uuid
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import orjson
from aiohttp import web
from aiokafka import AIOKafkaConsumer

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.ingest import bare_paho_rate, bench_registry, payload_lines  # noqa: E402
from device_sim.county import county_with_sample  # noqa: E402
from device_sim.load import load_devices  # noqa: E402
from hazmon.registry import PointType, load_registry  # noqa: E402
from hazmon.secrets import Secrets  # noqa: E402
from hazmon.settings import PACKAGE_DIR, Settings, get_settings  # noqa: E402
from hzctl.stack.manager import services  # noqa: E402
from hzctl.stack.mosquitto import register_enterprises  # noqa: E402
from testbed.pipeline import IsolatedPipeline, spare_port, topic_partitions  # noqa: E402
from testbed.kafka_admin import TopicClients  # noqa: E402

READINGS_PER_MESSAGE = 10   # default; --readings-per-message for a burst beyond one load process's message rate
CONNECTIONS = 40
INJECTION_EVERY_S = 2.0   # default; --alarm-every for more alarms in a short run (each target point alarms once: 210 in the generated county)
VOTING_TYPES = (PointType.COMBUSTIBLE_GAS, PointType.TOXIC_GAS)
GENERATED_ENTERPRISES = 60
SWEEP_RATES = (1000, 5000, 10000, 20000, 40000, 60000, 80000)
MESSAGES_TAKEN = re.compile(rb"messages_taken=(\d+)")   # ingest's last log line when it stops


@dataclass(frozen=True)
class Injection:
    """One injected alarm's message: its device, and the broker's acknowledgement (monotonic, epoch ms)."""

    device: str
    acked: float
    acked_ms: float


class WebhookReceiver:
    """Records when each alarm's notification (webhook format) arrives."""

    def __init__(self) -> None:
        self.arrived: dict[str, tuple[float, int]] = {}   # alarm → (monotonic arrival, the rules' emitted ms)
        self.port = spare_port()

    async def handle(self, request: web.Request) -> web.Response:
        now = time.monotonic()
        for change in (await request.json())["changes"]:
            alarm = change["alarm"]
            self.arrived.setdefault(alarm["point"] + "@" + alarm["enterprise"], (now, alarm["updated_at"]))
        return web.Response(text="ok")

    async def start(self) -> web.AppRunner:
        app = web.Application()
        app.router.add_post("/hook", self.handle)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        await web.TCPSite(runner, "127.0.0.1", self.port).start()
        return runner


def injection_targets(county_dir: Path) -> list[tuple[str, str, str, float, float, float]]:
    """(enterprise, device, point, high threshold, period_s, confirm_s) of every point with an upper limit on
    devices the load does not drive (their values would interleave with the injected ones), gas detectors
    left out (a voting group's member does not alarm alone)."""
    loaded = {(e, d) for e, d, _ in load_devices(county_dir, CONNECTIONS)}
    registry = load_registry(county_dir)
    targets = []
    for enterprise in sorted(registry.enterprises):
        for device, entries in sorted(registry.devices(enterprise).items()):
            if (enterprise, device) in loaded:
                continue
            for entry in entries:
                upper = [limit for limit in entry.limits.limits if limit.direction == "above"]
                if entry.limits.form == "two_level" and upper and entry.point.type not in VOTING_TYPES:
                    targets.append((enterprise, device, entry.id, upper[0].threshold, entry.point.period_s,
                                    entry.limits.confirm_s))
    return targets


async def inject_alarms(settings: Settings, secrets: Secrets, targets: list, seconds: float,
                        every_s: float = INJECTION_EVERY_S) -> dict[str, Injection]:
    """Every ``every_s``, one message whose readings stay beyond a point's limit for its whole
    confirmation time, the last reading stamped now: it completes the confirmation as it is published.
    Returns alarm → its injection."""
    import aiomqtt

    published: dict[str, Injection] = {}
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
            published[f"{point}@{enterprise}"] = Injection(device, time.monotonic(), time.time() * 1000)
        await asyncio.sleep(every_s)
    return published


def percentiles(values: np.ndarray) -> dict[str, float] | None:
    """{"p50", "p99"} of ``values``, rounded to the ms; None when there are none."""
    if not len(values):
        return None
    return {"p50": round(float(np.percentile(values, 50)), 3), "p99": round(float(np.percentile(values, 99)), 3)}


def _stat(pid: int) -> list[str]:
    """Fields of /proc/PID/stat after the command name (state is [0], ppid [1], utime [11], stime [12])."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except (FileNotFoundError, ProcessLookupError):
        return []


def process_parents() -> dict[int, int]:
    """Every process of the machine → its parent."""
    return {int(p.name): int(f[1]) for p in Path("/proc").iterdir() if p.name.isdigit() and (f := _stat(int(p.name)))}


def family(pid: int, parents: dict[int, int] | None = None) -> list[int]:
    """``pid`` and its descendants (``hazmon rules worker`` runs its Faust worker as a child), from
    ``parents`` when given (one walk of /proc for many processes)."""
    parents = process_parents() if parents is None else parents
    found = [pid]
    for candidate, parent in sorted(parents.items()):
        if parent in found:
            found.append(candidate)
    return found


def cpu_seconds(pid: int, members: list[int] | None = None) -> float:
    """CPU-seconds of ``pid``'s tree (``members``: its ``family``, when known)."""
    return sum(int(f[11]) + int(f[12]) for f in map(_stat, members or family(pid)) if f) / os.sysconf("SC_CLK_TCK")


def runqueue_wait_seconds(pid: int, members: list[int] | None = None) -> float:
    """Seconds the threads of ``pid``'s tree have waited, runnable, for a CPU (schedstat): the machine's
    shortage, where CPU-seconds show only what each process got."""
    total = 0
    for member in members or family(pid):
        for task in Path(f"/proc/{member}/task").glob("*/schedstat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                total += int(task.read_text().split()[1])
    return total / 1e9


def machine_ticks() -> tuple[int, int]:
    """(busy, all) clock ticks of every CPU of the machine since boot (/proc/stat: idle and iowait are not busy)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:9]]
    return sum(fields) - fields[3] - fields[4], sum(fields)


def machine_busy_percent(start: tuple[int, int], end: tuple[int, int]) -> float:
    """How busy the machine's CPUs were between two ``machine_ticks`` (100: every core all the time, whoever's work)."""
    return round(100 * (end[0] - start[0]) / max(1, end[1] - start[1]), 1)


def rss_bytes(pid: int, members: list[int] | None = None) -> int:
    total = 0
    for member in members or family(pid):
        try:
            status = Path(f"/proc/{member}/status").read_text().splitlines()
        except FileNotFoundError:
            continue
        total += sum(int(line.split()[1]) * 1024 for line in status if line.startswith("VmRSS:"))
    return total


def server_pids() -> dict[str, int]:
    """The local stack's servers that are running (``hazmon stack``'s pid files)."""
    return {service.name: pid for service in services(get_settings()) if (pid := service.process.pid()) is not None}


class ResourceSampler:
    """CPU use and peak RSS of each process (from /proc: utime + stime of its tree), sampled once a second."""

    def __init__(self, pids: dict[str, int]) -> None:
        self.pids = pids
        self.peak_rss = dict.fromkeys(pids, 0)
        self.cpu_start = {name: cpu_seconds(pid) for name, pid in pids.items()}
        self.cpu_seen = dict(self.cpu_start)   # a killed child (--failover) keeps what it had used
        self.wait_start = {name: runqueue_wait_seconds(pid) for name, pid in pids.items()}
        self.wait_seen = dict(self.wait_start)
        self.started = time.monotonic()

    async def run(self) -> None:
        while True:
            self._sample()
            await asyncio.sleep(1.0)

    def _sample(self) -> None:
        parents = process_parents()   # once a sample: the bench shares the machine it measures
        for name, pid in self.pids.items():
            members = family(pid, parents)
            self.peak_rss[name] = max(self.peak_rss[name], rss_bytes(pid, members))
            self.cpu_seen[name] = max(self.cpu_seen[name], cpu_seconds(pid, members))
            self.wait_seen[name] = max(self.wait_seen[name], runqueue_wait_seconds(pid, members))

    def figures(self, readings: int) -> dict[str, dict[str, float]]:
        """Per process: CPU % of one core, CPU-seconds and CPU-seconds per million ``readings`` since the
        start, the time its threads waited runnable for a CPU (% of the elapsed time), peak RSS."""
        self._sample()
        elapsed = time.monotonic() - self.started
        used = {name: self.cpu_seen[name] - self.cpu_start[name] for name in self.pids}
        waited = {name: self.wait_seen[name] - self.wait_start[name] for name in self.pids}
        return {name: {"cpu_percent": round(100 * used[name] / elapsed, 1), "cpu_s": round(used[name], 2),
                       "runqueue_wait_percent": round(100 * waited[name] / elapsed, 1),
                       "cpu_s_per_million_readings": per_million(used[name], readings),
                       "peak_rss_mb": round(self.peak_rss[name] / 2**20, 1)} for name in self.pids}


def per_million(cpu_s: float, readings: int) -> float | None:
    return round(cpu_s * 1e6 / readings, 2) if readings else None


def cpu_figures(processes: dict[str, dict[str, float]], servers: list[str], load: dict, readings: int) -> dict:
    """CPU-seconds per million readings published: each process, hazmon's own together (every process but
    the servers), the servers, the load."""
    hazmon_cpu = sum(figures["cpu_s"] for name, figures in processes.items() if name not in servers)
    return {"cpu_s_per_million_readings": {
        **{name: figures["cpu_s_per_million_readings"] for name, figures in processes.items()},
        "hazmon": per_million(hazmon_cpu, readings),
        "servers": per_million(sum(processes[name]["cpu_s"] for name in servers), readings),
        "load_generator": per_million(load["cpu_s"], load["readings"])}}


class GroupLag(TopicClients):
    """Records of a topic a consumer group has yet to commit, per partition (end offset − committed)."""

    def __init__(self, settings: Settings, topic: str) -> None:
        super().__init__(settings.kafka_bootstrap, topic)

    async def ends(self) -> dict:
        return await self.consumer.end_offsets(self.partitions)

    async def committed(self, group: str) -> dict:
        offsets = await self.admin.list_consumer_group_offsets(group)
        return {tp: max(0, offsets[tp].offset) if tp in offsets else 0 for tp in self.partitions}

    async def lag(self, group: str, ends: dict | None = None) -> int:
        ends = ends or await self.ends()
        committed = await self.committed(group)
        return sum(max(0, end - committed[tp]) for tp, end in ends.items())


async def ceiling(settings: Settings, seconds: float, per_message: int) -> float:
    """Readings/s a bare paho subscriber takes from this broker of the same messages, ``per_message`` readings
    each (bench/ingest.py's ceiling: QoS 1, the adapter's Receive Maximum, nothing but a count)."""
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        (directory / "registry").mkdir()
        bench_registry(directory / "registry")
        secrets = register_enterprises(settings, directory / "registry")
        await asyncio.sleep(1)
        lines = payload_lines(directory, "ceiling", int(seconds * 3000) + 1000, per_message)
        return per_message * await asyncio.to_thread(bare_paho_rate, settings, secrets, lines, seconds)


async def scan_readings(settings: Settings, topic: str, published: dict[str, Injection],
                        counted: set[tuple[str, str]] | None = None,
                        per_partition: Counter[int] | None = None) -> tuple[int, dict[str, tuple[int, int]]]:
    """One pass over the committed readings topic: the readings in it (repeats included; only those of
    the ``counted`` (enterprise, device) pairs when given; every reading counted into ``per_partition`` by
    its partition when given), and for each injected alarm (ingest's ``recv_ms``, the Kafka record time)
    of the first batch of its device received at or after its publish with its point (the injected
    devices carry no load, so it is the injected message's)."""
    wanted: dict[tuple[str, str], list[str]] = {}
    for alarm, injection in published.items():
        wanted.setdefault((alarm.split("@", 1)[1], injection.device), []).append(alarm)
    found: dict[str, tuple[int, int]] = {}
    readings = 0
    consumer = AIOKafkaConsumer(topic, bootstrap_servers=settings.kafka_bootstrap, group_id=None, auto_offset_reset="earliest",
                                enable_auto_commit=False, isolation_level="read_committed")
    await consumer.start()
    try:
        ends = await consumer.end_offsets(list(await topic_partitions(consumer, topic)))
        while any([await consumer.position(tp) < end for tp, end in ends.items()]):
            for messages in (await consumer.getmany(timeout_ms=1000, max_records=5000)).values():
                for message in messages:
                    batch = orjson.loads(message.value)
                    if counted is None or (batch["enterprise"], batch["device"]) in counted:
                        readings += len(batch["points"])
                    if per_partition is not None:
                        per_partition[message.partition] += len(batch["points"])
                    for alarm in wanted.get((batch["enterprise"], batch["device"]), ()):
                        if (alarm not in found and batch["recv_ms"] >= published[alarm].acked_ms - 1000
                                and alarm.split("@", 1)[0] in batch["points"]):
                            found[alarm] = (batch["recv_ms"], message.timestamp)
    finally:
        await consumer.stop()
    return readings, found


def latency_breakdown(published: dict[str, Injection], arrived: dict[str, tuple[float, int]],
                      batches: dict[str, tuple[int, int]]) -> dict:
    """Alarm latency split where the records tell: publish → ingest's receipt → Kafka record (before the
    rules), record → the transition's emission (the rules), emission → webhook (after the rules); and
    the three slowest alarms' legs (``at_s``: seconds after the first injection)."""
    measured = [alarm for alarm in published if alarm in arrived and alarm in batches]
    sent = np.array([published[a].acked_ms for a in measured])
    received = np.array([batches[a][0] for a in measured], dtype=float)
    recorded = np.array([batches[a][1] for a in measured], dtype=float)
    emitted = np.array([arrived[a][1] for a in measured], dtype=float)
    total = np.array([arrived[a][0] - published[a].acked for a in measured])
    legs = {"publish_to_ingest": (received - sent) / 1000, "ingest_to_kafka": (recorded - received) / 1000,
            "rules": (emitted - recorded) / 1000, "after_rules": total - (emitted - sent) / 1000}
    first = min((injection.acked for injection in published.values()), default=0.0)
    each = [{"at_s": round(published[a].acked - first, 1), "total": round(float(total[i]), 3),
             **{name: round(float(leg[i]), 3) for name, leg in legs.items()}} for i, a in enumerate(measured)]
    return {"alarms_measured": len(measured), "alarm_latency_breakdown_s": {
        "before_rules": percentiles((recorded - sent) / 1000), **{name: percentiles(leg) for name, leg in legs.items()},
        "slowest_3": sorted(each, key=lambda e: -e["total"])[:3]}}


def progress(text: str) -> None:
    print(f"[bench] {time.strftime('%H:%M:%S')} {text}", file=sys.stderr, flush=True)


async def sample_lag(lag: GroupLag, group: str, every_s: float, samples: list[tuple[float, int]]) -> None:
    """Append (monotonic time, lag of ``group``) every ``every_s`` until cancelled."""
    while True:
        samples.append((time.monotonic(), await lag.lag(group)))
        await asyncio.sleep(every_s)


def lag_figures(samples: list[tuple[float, int]], started: float) -> dict:
    """Peak lag, and its growth over the second half of the load (least squares, records per minute)."""
    if not samples:
        return {}
    times = np.array([t - started for t, _ in samples])
    lags = np.array([n for _, n in samples], dtype=float)
    half = times >= times[-1] / 2
    growth = float(np.polyfit(times[half], lags[half], 1)[0] * 60) if half.sum() >= 3 else None
    return {"rules_lag_peak_records": int(lags.max()), "rules_lag_last_records": int(lags[-1]),
            "rules_lag_growth_records_per_min": None if growth is None else round(growth, 1),
            "rules_lag_samples": [[round(float(t), 1), int(n)] for t, n in zip(times, lags)]}


async def fail_over(run: IsolatedPipeline, lag: GroupLag, kill_at: float) -> dict:
    """SIGKILL the second rules worker at ``kill_at``: how long until every partition's committed
    offset moves again (its partitions reassigned and processing), and until the lag is back to
    what it was before the kill."""
    group = run.env["HAZMON_RULES_APP_ID"]
    before: list[int] = []
    while time.monotonic() < kill_at:
        before.append(await lag.lag(group))
        await asyncio.sleep(0.5)
    frozen = await lag.committed(group)
    await asyncio.to_thread(run.supervisor.kill, "rules-2")
    killed = time.monotonic()
    normal = max(before[-20:]) if before else 0
    moved: set = set()
    reassigned_s = cleared_s = None
    while time.monotonic() - killed < 120 and cleared_s is None:
        committed = await lag.committed(group)
        moved |= {tp for tp, offset in committed.items() if offset > frozen[tp]}
        if reassigned_s is None and len(moved) == len(frozen):
            reassigned_s = time.monotonic() - killed
        if reassigned_s is not None and await lag.lag(group) <= normal:
            cleared_s = time.monotonic() - killed
        await asyncio.sleep(0.25)
    return {"failover_reassigned_s": None if reassigned_s is None else round(reassigned_s, 2),
            "failover_backlog_cleared_s": None if cleared_s is None else round(cleared_s, 2),
            "failover_lag_before_records": normal}


def numbered(name: str, count: int) -> list[str]:
    """``name``, ``name-2``, … ``name-count``: the children of one stage."""
    return [name] + [f"{name}-{n}" for n in range(2, count + 1)]


def start_load(run: IsolatedPipeline, county_dir: Path, rate: float, seconds: float, per_message: int,
               processes: int) -> list[subprocess.Popen]:
    """``processes`` ``hazmon sim load`` processes, each driving its part of the connections at its share of
    ``rate`` readings/s (one GIL each)."""
    return [run.sim(["load", "--county", str(county_dir), "--connections", str(CONNECTIONS),
                     "--rate", str(rate / per_message), "--seconds", str(seconds), "--readings", str(per_message),
                     "--run-id", run.unique, "--parts", str(processes), "--part", str(part), "--go-on-stdin"],
                    stdin=subprocess.PIPE)
            for part in range(processes)]


def start_together(loads: list[subprocess.Popen]) -> None:
    """Wait until every load process is ready (``sim load`` takes tens of seconds to prepare on a busy
    machine: the alarms injected and the CPU sampled meanwhile would not be under load), then start them all."""
    for load in loads:
        assert load.stdout is not None and load.stdin is not None
        line = load.stdout.readline()
        if not line:
            raise RuntimeError(f"sim load exited before it was ready (status {load.wait()}): see its log")
        if orjson.loads(line) != {"ready": True}:
            raise RuntimeError(f"sim load said {line!r}, not that it was ready")
    for load in loads:
        assert load.stdin is not None
        load.stdin.write(b"go\n")
        load.stdin.flush()   # communicate() closes it


def load_report(reports: list[dict]) -> dict:
    """The load processes' reports as one: readings and CPU summed, the rate the sum of each one's."""
    return {"readings": sum(r["readings"] for r in reports), "seconds": max(r["seconds"] for r in reports),
            "readings_per_s": round(sum(r["readings_per_s"] for r in reports), 1),
            "cpu_s": round(sum(r["cpu_s"] for r in reports), 2)}


def load_figures(reports: list[dict]) -> list[dict]:
    """Each load process's connections, published readings/s, its own CPU and the time it waited runnable
    for a CPU (% of its run: the machine, not the generator, held it back)."""
    return [{"connections": r["connections"], "readings_per_s": r["readings_per_s"], "cpu_s": r["cpu_s"],
             "cpu_percent": round(100 * r["cpu_s"] / r["seconds"], 1),
             "cpu_s_per_million_readings": r["cpu_s_per_million_readings"],
             "runqueue_wait_percent": None if r.get("runqueue_wait_s") is None else round(100 * r["runqueue_wait_s"] / r["seconds"], 1)}
            for r in reports]


def stop_ingest(run: IsolatedPipeline, names: list[str]) -> dict[str, int | None]:
    """SIGTERM the ingest processes (they drain) and read the messages each took from its last log line."""
    taken: dict[str, int | None] = {}
    for name in names:
        run.supervisor.stop(name)
        found = MESSAGES_TAKEN.findall(run.supervisor.children[name].log_file.read_bytes())
        taken[name] = int(found[-1]) if found else None
    return taken


async def rules_partitions(run: IsolatedPipeline, names: list[str]) -> dict[str, list[int]]:
    """The readings partitions of each rules worker still running, from its last pipeline-metrics record
    (``instance`` is host:pid of the Faust worker, a child of the supervised process)."""
    owner = {pid: name for name in names if (child := run.supervisor.children[name]).alive
             for pid in family(child.process.pid)}
    last: dict[str, list[int]] = {}
    async for record in run.records(run.names.metrics):
        pid = int(record["instance"].rsplit(":", 1)[1]) if record["component"] == "rules" else None
        if pid in owner:
            last[owner[pid]] = sorted(lag["partition"] for lag in record["lags"] if lag["topic"] == run.names.readings)
    return last


def scale_out(processes: dict[str, dict[str, float]], taken: dict[str, int | None], partitions: dict[str, list[int]],
              per_partition: Counter[int], per_message: int, flow_s: float) -> dict:
    """Each ingest's and each rules worker's share: its readings (an ingest's: the messages it took ×
    ``per_message``; the injected alarms' messages are a few hundred of them), readings/s over the time the
    readings flowed, CPU-seconds per million of its own readings."""
    def own(name: str, readings: int, total: int) -> dict:
        return {"readings": readings, "share": round(readings / total, 3) if total else None,
                "readings_per_s": round(readings / flow_s, 1), "cpu_percent": processes[name]["cpu_percent"],
                "cpu_s_per_million_own_readings": per_million(processes[name]["cpu_s"], readings)}
    ingest_total = sum(n or 0 for n in taken.values()) * per_message
    rules_total = sum(per_partition.values())
    return {"ingest": {name: {"messages_taken": n, **own(name, (n or 0) * per_message, ingest_total)} for name, n in taken.items()},
            "rules": {name: {"partitions": parts, **own(name, sum(per_partition[p] for p in parts), rules_total)}
                      for name, parts in partitions.items()},
            "readings_per_partition": {str(p): n for p, n in sorted(per_partition.items())}}


async def measure(rate: float, seconds: float, root: Path, failover: bool = False,
                  per_message: int = READINGS_PER_MESSAGE, alarm_every_s: float = INJECTION_EVERY_S,
                  ingest_processes: int = 1, rules_processes: int = 1, load_processes: int = 1) -> dict:
    settings = get_settings()
    ceiling_rps = await ceiling(settings, min(10.0, seconds / 3), per_message)
    county_dir = county_with_sample(root, GENERATED_ENTERPRISES, 5, PACKAGE_DIR / "sample_registry")
    secrets = register_enterprises(settings, county_dir)
    receiver = WebhookReceiver()
    web_runner = await receiver.start()
    run = IsolatedPipeline(settings, root / f"home-{int(rate)}", county_dir, uuid.uuid4().hex[:10], secrets.duty_token,
                           (f"http://127.0.0.1:{receiver.port}/hook",))
    await run.create_topics()
    try:
        ingest_names = numbered("ingest", ingest_processes)
        rules_names = numbered("rules", max(rules_processes, 2 if failover else 1))
        for name in ingest_names:
            run.start_ingest(name)
        for name in rules_names:
            run.start_rules(name)
        run.start_alerting()
        run.start_recorder()                      # the readings into InfluxDB, as in production
        await run.wait_api()
        await asyncio.sleep(15)   # the rules worker joins its group
        progress("pipeline up; the load generator prepares")
        loads = start_load(run, county_dir, rate, seconds, per_message, load_processes)
        await asyncio.to_thread(start_together, loads)
        progress(f"offering {rate:.0f} readings/s for {seconds:.0f} s")
        load_average = os.getloadavg()[0]   # the machine is shared: what else ran at the start
        servers = server_pids()
        sampler = ResourceSampler({**{c.name: c.process.pid for c in run.supervisor.children.values()}, **servers})
        sampling = asyncio.create_task(sampler.run())
        async with GroupLag(settings, run.names.readings) as lag:
            lag_samples: list[tuple[float, int]] = []
            load_started, machine_at_start = time.monotonic(), machine_ticks()
            lag_sampling = asyncio.create_task(sample_lag(lag, run.env["HAZMON_RULES_APP_ID"], 5.0, lag_samples))
            killing = asyncio.create_task(fail_over(run, lag, load_started + seconds / 2)) if failover else None
            published = await inject_alarms(settings, secrets, injection_targets(county_dir), seconds - 5, alarm_every_s)
            outs = [(await asyncio.to_thread(load.communicate))[0] for load in loads]
            load_ended, machine_busy = time.monotonic(), machine_busy_percent(machine_at_start, machine_ticks())
            progress("load done; waiting for the rules and the InfluxDB writer to catch up")
            lag_sampling.cancel()
            failover_figures = await killing if killing else {}
            reports = [orjson.loads(out.splitlines()[-1]) for out in outs]
            report = load_report(reports)
            try:
                caught_up = await wait_caught_up(run, lag, deadline_s=max(120.0, seconds))
                drained = True
            except RuntimeError as exc:   # the pipeline did not keep up: the figures still say how far it got
                progress(str(exc))
                caught_up, drained = time.monotonic(), False
        sampling.cancel()
        processes = sampler.figures(report["readings"])
        await asyncio.sleep(3)   # the last notifications
        latencies = np.array([receiver.arrived[k][0] - published[k].acked for k in published if k in receiver.arrived])
        overall = percentiles(latencies)
        progress("caught up; counting the readings in Kafka")
        per_partition: Counter[int] = Counter()
        consumed, batches = await scan_readings(settings, run.names.readings, published, per_partition=per_partition)
        flow_s = report["seconds"] + caught_up - load_ended
        dead = [c.name for c in run.supervisor.dead() if c.name != "rules-2" or not failover]
        partitions = await rules_partitions(run, rules_names)
        taken = await asyncio.to_thread(stop_ingest, run, ingest_names)
        return {
            "offered_readings_per_s": rate, "seconds": seconds, "readings_per_message": per_message,
            "published_readings_per_s": report["readings_per_s"],
            "sustained_readings_per_s": round(consumed / flow_s, 1),
            "backlog_drain_s": round(caught_up - load_ended, 1), "backlog_drained": drained,
            "load_average_at_start": round(load_average, 2), "machine_cpu_busy_percent_during_load": machine_busy,
            "readings_published": report["readings"], "readings_in_kafka": consumed,
            "lost_readings": max(0, report["readings"] - consumed),
            "p50_alarm_latency_s": overall["p50"] if overall else None,
            "p99_alarm_latency_s": overall["p99"] if overall else None,
            "alarms_injected": len(published), "alarms_notified": len(latencies),
            **latency_breakdown(published, receiver.arrived, batches),
            **cpu_figures(processes, list(servers), report, report["readings"]),
            "load_generator_cpu_s": report["cpu_s"], "load_processes": load_figures(reports),
            "scale_out": scale_out(processes, taken, partitions, per_partition, per_message, flow_s),
            "ceiling_passthrough_readings_per_s": round(ceiling_rps), "processes": processes,
            "dead_children": dead,
            **failover_figures, **lag_figures(lag_samples, load_started),
        }
    finally:
        await asyncio.to_thread(run.supervisor.stop_all)
        await run.drop_database()
        await run.drop_topics()
        await web_runner.cleanup()


async def wait_caught_up(run: IsolatedPipeline, lag: GroupLag, deadline_s: float, settle_s: float = 10.0,
                         topic_still: bool = True) -> float:
    """Monotonic time at which the backlog was gone: ingest had put the broker's backlog on the readings
    topic (its end stopped moving for ``settle_s``) and the rules worker and the recorder had consumed
    it all. With ``topic_still`` False the topic may go on growing (bench/abuse.py: ingest drains an
    attacker's queued flood at that enterprise's rate for minutes): after ``settle_s`` (what the other
    sessions still hold reaches the topic) the consumers must have consumed the topic as it was then."""
    give_up = time.monotonic() + deadline_s
    groups = (run.env["HAZMON_RULES_APP_ID"], run.env["HAZMON_ALERTING_GROUP"] + "-readings")
    if not topic_still:
        await asyncio.sleep(settle_s)
        target = await lag.ends()
        while time.monotonic() < give_up:
            if not any([await lag.lag(group, target) for group in groups]):
                return time.monotonic()
            await asyncio.sleep(0.5)
        raise RuntimeError(f"the topic as it was {settle_s:g} s after the load not consumed within {deadline_s} s")
    ends, busy = await lag.ends(), time.monotonic()
    polls = 0
    while time.monotonic() < give_up:
        await asyncio.sleep(0.5)
        now_ends = await lag.ends()
        lags = [await lag.lag(group, now_ends) for group in groups]
        if now_ends != ends or any(lags):
            ends, busy = now_ends, time.monotonic()
        elif time.monotonic() - busy >= settle_s:
            return busy
        polls += 1
        if polls % 20 == 0:
            progress(f"records still to consume: rules {lags[0]}, InfluxDB writer {lags[1]}; "
                     f"readings topic at {sum(now_ends.values())} records")
    raise RuntimeError(f"backlog not drained within {deadline_s} s")


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    offered = [r["offered_readings_per_s"] for r in results]
    fig, (rates, latency, cpu) = plt.subplots(1, 3, figsize=(15, 4.5))
    rates.plot(offered, [r["sustained_readings_per_s"] for r in results], "o-", label="sustained")
    rates.plot(offered, [r["published_readings_per_s"] for r in results], "s:", label="published")
    rates.plot(offered, offered, "--", label="offered")
    rates.set_ylabel("readings/s")
    latency.plot(offered, [r["p50_alarm_latency_s"] for r in results], "o-", label="p50")
    latency.plot(offered, [r["p99_alarm_latency_s"] for r in results], "o-", label="p99")
    latency.set_ylabel("alarm latency s (publish to webhook)")
    for process in ("hazmon", "rules", "ingest", "recorder", "servers", "load_generator"):
        cpu.plot(offered, [r["cpu_s_per_million_readings"].get(process) for r in results], "o-", label=process)
    cpu.set_ylabel("CPU-seconds per million readings")
    cpu.set_yscale("log")
    for axes in (rates, latency, cpu):
        axes.set_xlabel("offered readings/s")
        axes.legend()
    fig.suptitle(f"bench/pipeline.py sweep, {results[0]['readings_per_message']} readings/message, "
                 f"{results[0]['seconds']:.0f} s per rate")
    fig.tight_layout()
    fig.savefig(path)


async def main(rate: float | None, seconds: float, plot_path: Path, failover: bool, keep: Path | None,
               per_message: int, alarm_every_s: float, ingest_processes: int, rules_processes: int,
               load_processes: int) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        root = keep or Path(tmp)
        if rate is not None:
            return await measure(rate, seconds, root, failover, per_message, alarm_every_s,
                                 ingest_processes, rules_processes, load_processes)
        results = [await measure(r, seconds, root, per_message=per_message, alarm_every_s=alarm_every_s) for r in SWEEP_RATES]
    plot(results, plot_path)
    best = max(results, key=lambda r: r["sustained_readings_per_s"])
    return {**best, "sweep": results, "plot": str(plot_path)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rate", type=float, help="offered readings/s; without it, a sweep with a plot")
    parser.add_argument("--seconds", type=float, default=30.0, help="load duration per rate")
    parser.add_argument("--plot", type=Path, default=Path("bench/pipeline.png"), help="PNG of the sweep")
    parser.add_argument("--failover", action="store_true",
                        help="two rules workers; SIGKILL one halfway: time to reassign its partitions and to clear the backlog")
    parser.add_argument("--keep", type=Path, help="put the run's files (county, logs of every process) here and keep them")
    parser.add_argument("--readings-per-message", type=int, default=READINGS_PER_MESSAGE,
                        help="readings in each simulated message (the standard allows up to 1000); more offers a "
                             "higher reading rate from one load process")
    parser.add_argument("--alarm-every", type=float, default=INJECTION_EVERY_S,
                        help="seconds between injected alarms (the county has 210 targets): 0.25 gives ≈ 200 in 60 s")
    parser.add_argument("--ingest-processes", type=int, default=1,
                        help="ingest processes splitting the devices' messages (MQTT shared subscriptions)")
    parser.add_argument("--rules-processes", type=int, default=1, help="rules workers splitting the readings' partitions")
    parser.add_argument("--load-processes", type=int, default=1,
                        help="load generator processes sharing the connections (one GIL each)")
    args = parser.parse_args()
    print(orjson.dumps(asyncio.run(main(args.rate, args.seconds, args.plot, args.failover, args.keep,
                                        args.readings_per_message, args.alarm_every, args.ingest_processes,
                                        args.rules_processes, args.load_processes))).decode())
