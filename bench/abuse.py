"""One enterprise runs every abuse of issue #14 at full speed while the others (the victims) publish
1 000 readings/s with alarms, through the whole pipeline on this machine (`sim load` → Mosquitto →
ingest → Kafka → rules → alerting → a local webhook).

The attacker is a process of its own, with the attacking enterprise's account only: C publishers
(`mosquitto_pub -l`, as fast as the broker takes them) of valid telemetry (over its rate limits),
250 KB messages of 1 000 bad readings, `seq` 2^64 − 1, 8-day-old readings, a point name with a
forged log line, events with an 80 000-character text and messages for a made-up device; sessions
subscribed to the documented share group and to `#` and `$SYS/#`; connections under the platform's
documented client ids, again and again; and 200 parked persistent sessions on its errors topics.

The broker is a private Mosquitto of the run (configured by `hzctl.stack.mosquitto`, as the
local stack's, on spare ports, with the installation's secrets): the flood does not burden the
broker other people's work shares, and the broker runs the current configuration (per-device ACL,
per-session queue limits) whatever the shared one was started with.

The attacker and the victims' publishers model machines elsewhere on the internet: the attacker
runs at the lowest CPU priority (nice 19) and the CPU of both is reported apart from the
platform's (the broker and the pipeline, at normal priority). The machine is shared: what else kept
it busy during the attack is reported too (`others_cpu_percent`, `load_average_1min`).

Goal: the victims lose nothing, their p99 alarm latency stays under 1 s, every process's memory
stays under its bound (`BOUNDS_MB`). The last stdout line is one JSON object: `victim_lost`,
`victim_p99_alarm_latency_s`, `victim_alarm_latency_split_s` (where the alarms' time went, as
bench/pipeline.py splits it: the broker's queue and ingest's reading, ingest, the rules, alerting;
the three slowest alarms' legs),
`peak_rss_mb` (per platform process, the run's Mosquitto included), `cpu_percent_during_attack`,
`attacks` (what each attack sent or got), `goal_met`.

Usage: .venv/bin/python bench/abuse.py --seconds 60 --alarm-every 0.25
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import multiprocessing
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from itertools import count, cycle
from pathlib import Path

import aiomqtt
import numpy as np
import orjson
from paho.mqtt.packettypes import PacketTypes
from paho.mqtt.properties import Properties

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.pipeline import (  # noqa: E402
    CONNECTIONS, INJECTION_EVERY_S, GroupLag, ResourceSampler, WebhookReceiver, inject_alarms, injection_targets,
    latency_breakdown, percentiles, progress, scan_readings, wait_caught_up)
from device_sim.county import county_with_sample  # noqa: E402
from device_sim.load import load_devices  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.secrets import Secrets, load_secrets  # noqa: E402
from hazmon.settings import PACKAGE_DIR, Settings, get_settings  # noqa: E402
from hzctl.stack.mosquitto import Mosquitto  # noqa: E402
from testbed.pipeline import IsolatedPipeline  # noqa: E402

VICTIM_READINGS_S = 1000
READINGS_PER_MESSAGE = 10
ENTERPRISES = 60
GUESSED_GROUPS = ("hazmon-ingest", "hazmon", "ingest", "e2e")
GUESSED_CLIENT_IDS = ("hazmon-ingest-1", "hazmon-ingest-2", "hazmon-ingest", "hazmon-platform")
PARKED_SESSIONS = 200
PARKED_EXPIRY_S = 600  # long enough for the run, short enough not to burden the shared broker for a day
OUTSIDE = ("attacker", "victim_publishers")  # processes modelling machines elsewhere: not the platform's CPU
BOUNDS_MB = {"ingest": 300, "rules": 400, "alerting": 300, "recorder": 300, "mosquitto": 1024}


def attacker_of(county_dir: Path) -> tuple[str, list[tuple[str, list[str]]]]:
    """An enterprise none of whose devices the victims' load drives, with its devices and their points."""
    loaded = {e for e, _, _ in load_devices(county_dir, CONNECTIONS)}
    registry = load_registry(county_dir)
    enterprise = next(e for e in sorted(registry.enterprises, reverse=True)
                      if e not in loaded and len(registry.devices(e)) >= 2)
    devices = [(d, [entry.id for entry in entries]) for d, entries in sorted(registry.devices(enterprise).items())]
    return enterprise, devices


def payload_streams(enterprise: str, devices: list[tuple[str, list[str]]]) -> dict[str, object]:
    """Topic → endless iterator of payloads, one C publisher each."""
    (first, points), (second, others) = devices[0], devices[1]
    now_ms = lambda: int(time.time() * 1000)  # noqa: E731
    seq = count(1)
    bad = orjson.dumps({"v": 1, "readings": [{"point": f"NOPE{i:04d}", "value": 1.0, "pad": "x" * 200}
                                             for i in range(1000)]})
    mixed = (lambda: orjson.dumps({"v": 1, "seq": next(seq), "ts": now_ms(),
                                   "readings": [{"point": points[0], "value": 1.0}]}),
             lambda: bad,
             lambda: orjson.dumps({"v": 1, "seq": 2**64 - 1, "readings": [{"point": points[0], "value": 1.0}]}),
             lambda: orjson.dumps({"v": 1, "readings": [{"point": points[0], "value": 1.0,
                                                         "ts": now_ms() - 8 * 86_400_000}]}),
             lambda: orjson.dumps({"v": 1, "readings": [{"point": "P\n2026-12-06T00:00:00.000 ERROR [1] x: FORGED",
                                                         "value": 1.0}]}))
    base = f"hazmon/v1/{enterprise}"
    return {
        f"{base}/{first}/telemetry": (make() for make in cycle(mixed)),
        f"{base}/{second}/telemetry": (orjson.dumps({"v": 1, "ts": now_ms(), "readings": [
            {"point": p, "value": 1.0} for p in others]}) for _ in count()),
        f"{base}/{first}/event": (orjson.dumps({"v": 1, "ts": now_ms(), "point": points[0], "event": "fault",
                                                "text": "烟" * 80_000}) for _ in count()),
        f"{base}/MADE-UP-{uuid.uuid4().hex[:6]}/telemetry": (b'{"v":1,"readings":[]}' for _ in count()),
    }


def _publish_stream(settings: Settings, enterprise: str, password: str, topic: str, payloads: object,
                    until: float, sent: dict[str, int]) -> None:
    publisher = subprocess.Popen(
        ["mosquitto_pub", "-h", settings.mqtt_host, "-p", str(settings.mqtt_port), "-V", "5", "-q", "1",
         "-u", enterprise, "-P", password, "-i", f"abuse-pub-{uuid.uuid4().hex[:8]}", "-M", "1000", "-t", topic, "-l"],
        stdin=subprocess.PIPE, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    with contextlib.suppress(BrokenPipeError):
        while time.time() < until and publisher.poll() is None:
            publisher.stdin.write(next(payloads) + b"\n")
            sent[topic] = sent.get(topic, 0) + 1
    with contextlib.suppress(BrokenPipeError):
        publisher.stdin.close()
    publisher.terminate()
    publisher.wait(10)


def _client(settings: Settings, enterprise: str, password: str, identifier: str, **options: object) -> aiomqtt.Client:
    return aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise, password=password,
                          identifier=identifier, protocol=aiomqtt.ProtocolVersion.V5, **options)


async def _steal(settings: Settings, enterprise: str, password: str, until: float, got: dict[str, int]) -> None:
    """Sessions on the guessed share groups and the wildcards, counting what arrives of anyone else."""
    filters = [f"$share/{g}/hazmon/v1/+/+/{k}" for g in GUESSED_GROUPS for k in ("telemetry", "event", "status")]
    filters += ["#", "hazmon/#", "$SYS/#"]
    async with _client(settings, enterprise, password, f"abuse-steal-{uuid.uuid4().hex[:6]}") as client:
        for filter_ in filters:
            await client.subscribe(filter_, qos=1)
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(until - time.time()):
                async for message in client.messages:
                    if not message.topic.value.startswith(f"hazmon/v1/{enterprise}/"):
                        got["others_messages_received"] += 1


async def _take_over(settings: Settings, enterprise: str, password: str, until: float, got: dict[str, int]) -> None:
    expiry = Properties(PacketTypes.CONNECT)
    expiry.SessionExpiryInterval = PARKED_EXPIRY_S
    for identifier in cycle(GUESSED_CLIENT_IDS):
        if time.time() >= until:
            return
        with contextlib.suppress(aiomqtt.MqttError):
            async with _client(settings, enterprise, password, identifier, clean_start=False, properties=expiry):
                got["takeover_connections"] += 1
                await asyncio.sleep(0.5)


async def _park(settings: Settings, enterprise: str, password: str, got: dict[str, int]) -> None:
    expiry = Properties(PacketTypes.CONNECT)
    expiry.SessionExpiryInterval = PARKED_EXPIRY_S
    for n in range(PARKED_SESSIONS):
        with contextlib.suppress(aiomqtt.MqttError):
            async with _client(settings, enterprise, password, f"abuse-park-{uuid.uuid4().hex[:6]}-{n}",
                               clean_start=False, properties=expiry) as client:
                await client.subscribe(f"hazmon/v1/{enterprise}/+/errors", qos=1)
                got["parked_sessions"] += 1


def attack(settings: Settings, enterprise: str, password: str, devices: list, seconds: float,
           report: multiprocessing.Queue) -> None:
    """The attacker process: every abuse at once for ``seconds``; puts its counts on ``report``.

    It runs at the lowest CPU priority (nice 19, inherited by its threads and C publishers): it models
    machines elsewhere on the internet, whose CPU is not the platform's; the broker and the pipeline,
    the platform's cost, keep normal priority."""
    os.setpriority(os.PRIO_PROCESS, 0, 19)
    until = time.time() + seconds
    sent: dict[str, int] = {}
    threads = [threading.Thread(target=_publish_stream, args=(settings, enterprise, password, topic, payloads, until, sent))
               for topic, payloads in payload_streams(enterprise, devices).items()]
    for thread in threads:
        thread.start()
    got = {"others_messages_received": 0, "takeover_connections": 0, "parked_sessions": 0}

    async def sessions() -> None:
        await asyncio.gather(_park(settings, enterprise, password, got),
                             *(_steal(settings, enterprise, password, until, got) for _ in range(3)),
                             _take_over(settings, enterprise, password, until, got))

    asyncio.run(sessions())
    for thread in threads:
        thread.join()
    report.put({"published": {topic.rsplit("/", 2)[-2] + "/" + topic.rsplit("/", 1)[-1]: n for topic, n in sent.items()},
                **got})


def machine_cpu_seconds() -> float:
    """CPU seconds the whole machine has been busy (every core, every user: /proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + fields[4]  # idle, iowait
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def _spare_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


@contextlib.contextmanager
def private_broker(settings: Settings, county_dir: Path) -> Iterator[tuple[Settings, subprocess.Popen]]:
    """A Mosquitto of the run for ``county_dir``'s enterprises; its settings and process. Every child
    started meanwhile reaches it (HAZMON_MQTT_PORT in the environment)."""
    home = Path(tempfile.mkdtemp(prefix="hazmon-abuse-broker-"))
    os.chmod(home, 0o755)  # the broker drops to user mosquitto, which must reach its files
    private = settings.model_copy(update={"home": home, "mqtt_port": _spare_port(), "mqtt_tls_port": _spare_port(),
                                          "secrets_file": settings.secrets_path, "registry_dir": county_dir})
    server = Mosquitto(private)
    server.prepare()
    log = (home / "mosquitto.log").open("wb")
    process = subprocess.Popen(server.argv(), stdout=log, stderr=subprocess.STDOUT)
    os.environ["HAZMON_MQTT_PORT"] = str(private.mqtt_port)
    try:
        deadline = time.monotonic() + 10
        while server.health() is not None:
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the run's broker did not start: {(home / 'mosquitto.log').read_text()[-2000:]}")
            time.sleep(0.1)
        yield private, process
    finally:
        os.environ.pop("HAZMON_MQTT_PORT", None)
        process.terminate()
        process.wait(10)
        log.close()
        shutil.rmtree(home, ignore_errors=True)


async def measure(seconds: float, root: Path, alarm_every_s: float) -> dict:
    county_dir = county_with_sample(root, ENTERPRISES, 5, PACKAGE_DIR / "sample_registry")
    with private_broker(get_settings(), county_dir) as (settings, broker):
        return await measure_on(settings, broker, county_dir, seconds, root, alarm_every_s)


async def measure_on(settings: Settings, broker: subprocess.Popen, county_dir: Path, seconds: float,
                     root: Path, alarm_every_s: float) -> dict:
    secrets: Secrets = load_secrets(settings.secrets_path)
    attacker, devices = attacker_of(county_dir)
    loaded = {(e, d) for e, d, _ in load_devices(county_dir, CONNECTIONS)}
    targets = [t for t in injection_targets(county_dir) if t[0] != attacker]
    receiver = WebhookReceiver()
    web_runner = await receiver.start()
    run = IsolatedPipeline(get_settings(), root / "home", county_dir, uuid.uuid4().hex[:10], secrets.duty_token,
                           (f"http://127.0.0.1:{receiver.port}/hook",))
    try:
        await run.start()
        await asyncio.sleep(15)   # the rules worker joins its group
        pids = {c.name: c.process.pid for c in run.supervisor.children.values()}
        progress(f"attacker {attacker}; victims offer {VICTIM_READINGS_S} readings/s for {seconds:.0f} s")
        results: multiprocessing.Queue = multiprocessing.Queue()
        attacker_process = multiprocessing.Process(target=attack, args=(
            settings, attacker, secrets.enterprise(attacker).mqtt_password, devices, seconds, results))
        attacker_process.start()
        load = run.sim(["load", "--county", str(county_dir), "--connections", str(CONNECTIONS),
                        "--rate", str(VICTIM_READINGS_S / READINGS_PER_MESSAGE), "--seconds", str(seconds),
                        "--readings", str(READINGS_PER_MESSAGE), "--run-id", run.unique])
        sampler = ResourceSampler({**pids, "mosquitto": broker.pid,
                                   "attacker": attacker_process.pid, "victim_publishers": load.pid})
        sampling = asyncio.create_task(sampler.run())
        machine_busy, attack_started = machine_cpu_seconds(), time.monotonic()
        published = await inject_alarms(settings, secrets, targets, seconds - 5, alarm_every_s)
        out, _ = await asyncio.to_thread(load.communicate)
        report = orjson.loads(out.splitlines()[-1])
        attacks = await asyncio.to_thread(results.get, True, seconds + 120)
        await asyncio.to_thread(attacker_process.join, 30)
        cpu_during = {name: f["cpu_percent"] for name, f in sampler.figures(report["readings"]).items()}
        machine_percent = 100 * (machine_cpu_seconds() - machine_busy) / (time.monotonic() - attack_started)
        load_average = os.getloadavg()[0]
        progress("load and attack done; waiting for the pipeline to catch up")
        async with GroupLag(settings, run.names.readings) as lag:
            await wait_caught_up(run, lag, deadline_s=max(120.0, 2 * seconds), topic_still=False)
        sampling.cancel()
        await asyncio.sleep(3)   # the last notifications
        latencies = np.array([receiver.arrived[k][0] - published[k].acked for k in published if k in receiver.arrived])
        in_kafka, batches = await scan_readings(settings, run.names.readings, published, counted=loaded)
        overall = percentiles(latencies)
        figures = sampler.figures(report["readings"])
        peak = {name: f["peak_rss_mb"] for name, f in figures.items() if name not in OUTSIDE}
        lost = max(0, report["readings"] - in_kafka)
        p99 = overall["p99"] if overall else None
        return {
            "seconds": seconds, "attacker": attacker, "victim_readings_published": report["readings"],
            "victim_readings_in_kafka": in_kafka, "victim_lost": lost,
            "victim_p50_alarm_latency_s": overall["p50"] if overall else None, "victim_p99_alarm_latency_s": p99,
            "alarms_injected": len(published), "alarms_notified": len(latencies),
            "victim_alarm_latency_split_s": latency_breakdown(published, receiver.arrived, batches)["alarm_latency_breakdown_s"],
            "peak_rss_mb": peak, "rss_bounds_mb": BOUNDS_MB,
            # of one core, while the attack ran (100 = one core of the machine's two)
            "cpu_percent_during_attack": cpu_during,
            "platform_cpu_percent": round(sum(v for n, v in cpu_during.items() if n not in OUTSIDE), 1),
            # the machine is shared (other people's tests): what it was busy with besides this run
            "others_cpu_percent": round(machine_percent - sum(cpu_during.values()), 1),
            "load_average_1min": round(load_average, 2),
            "attacks": attacks, "dead_children": [c.name for c in run.supervisor.dead()],
            "goal_met": lost == 0 and p99 is not None and p99 < 1.0 and len(latencies) == len(published)
                        and all(peak[name] <= bound for name, bound in BOUNDS_MB.items()),
        }
    finally:
        await asyncio.to_thread(run.supervisor.stop_all)
        await run.drop_database()
        await run.drop_topics()
        await web_runner.cleanup()


async def main(seconds: float, keep: Path | None, alarm_every_s: float) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        return await measure(seconds, keep or Path(tmp), alarm_every_s)


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=60.0, help="how long the victims publish and the attacker attacks")
    parser.add_argument("--alarm-every", type=float, default=INJECTION_EVERY_S,
                        help="seconds between injected alarms (0.25 gives ~200 alarms in 60 s: a p99 of 12 alarms is their maximum)")
    parser.add_argument("--keep", type=Path, help="put the run's files (county, logs of every process) here and keep them")
    args = parser.parse_args()
    print(orjson.dumps(asyncio.run(main(args.seconds, args.keep, args.alarm_every))).decode())
