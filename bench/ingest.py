"""Benchmark: readings per second the ingest adapter (one process) moves from Mosquitto to Kafka.

Two C publishers (``mosquitto_pub -l``) publish at full speed, QoS 1, as two devices of a bench
enterprise; ``hazmon ingest run`` runs as its own process; this process counts the readings that
reach Kafka. Two runs: messages of 50 readings and of 1 reading. In the same run, the ceiling: a
bare paho-mqtt subscriber's receive rate (QoS 1, nothing but a count) of the same 1-reading stream
on the same broker; for reference, a bare aiomqtt subscriber's rate (aiomqtt's message iterator
costs a task per message, which the adapter avoids) and a bare pass-through (that subscriber
sending each message as one Kafka record, no checks, no acknowledgement after Kafka). Last stdout
line: JSON with ``readings_per_s_batch50``, ``msgs_per_s_batch1``, ``ceiling_msgs_per_s``,
``ratio_batch1``, ``aiomqtt_subscriber_msgs_per_s`` and ``passthrough_msgs_per_s``.

    .venv/bin/python bench/ingest.py --seconds 20
"""

from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

# this file is named like the package it measures: import the package, not this script
sys.path[0] = str(Path(__file__).resolve().parents[1])

import orjson  # noqa: E402
import paho.mqtt.client as paho  # noqa: E402
from aiokafka import AIOKafkaConsumer, AIOKafkaProducer  # noqa: E402
from paho.mqtt.packettypes import PacketTypes  # noqa: E402
from paho.mqtt.properties import Properties  # noqa: E402

from hazmon.secrets import Secrets  # noqa: E402
from hazmon.settings import Settings, get_settings  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from hzctl.stack.mosquitto import register_enterprises  # noqa: E402
from ingest.mqtt_link import platform_client  # noqa: E402

ENTERPRISE = "BENCH-INGEST-01"
DEVICES = {"RTU01": [f"P{i:02d}" for i in range(50)], "RTU02": [f"Q{i:02d}" for i in range(50)]}  # one publisher each
T0 = 1_764_000_000_000


def bench_registry(directory: Path) -> None:
    points = "".join(f"  - {{id: {p}, site: S1, device: {device}, type: temperature, range: [-20, 80], "
                     f"high: 45, high_high: 55, period_s: 1}}\n" for device, ids in DEVICES.items() for p in ids)
    (directory / f"{ENTERPRISE}.yaml").write_text(
        f'enterprise: {{id: "{ENTERPRISE}", name: "bench", lat: 29.0, lon: 109.8}}\n'
        f'sites:\n  - {{id: S1, name: "bench site", kind: major_hazard}}\npoints:\n{points}')


def payload_lines(directory: Path, name: str, messages: int, per_message: int) -> dict[str, Path]:
    """One file of JSON lines per device: ``messages`` telemetry messages of ``per_message`` readings."""
    files = {}
    for device, points in DEVICES.items():
        files[device] = directory / f"{name}-{device}.lines"
        with files[device].open("wb") as out:
            for m in range(messages):
                readings = [{"point": points[i], "value": 20.0 + i, "ts": T0 + m * 50 + i} for i in range(per_message)]
                out.write(orjson.dumps({"v": 1, "seq": m + 1, "ts": T0 + m * 50, "readings": readings}) + b"\n")
    return files


def start_publishers(settings: Settings, secrets: Secrets, lines: dict[str, Path]) -> list[subprocess.Popen]:
    return [_publisher(settings, secrets, device, path) for device, path in lines.items()]


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()


def _publisher(settings: Settings, secrets: Secrets, device: str, lines: Path) -> subprocess.Popen:
    """``mosquitto_pub -l`` fed ``lines`` through a pipe that stays open: at the end of its input
    mosquitto_pub 2.0.11 quits before it has sent what it read (38 665 of 300 000 lines arrived)."""
    publish = ["mosquitto_pub", "-h", settings.mqtt_host, "-p", str(settings.mqtt_port), "-V", "5", "-q", "1",
               "-u", ENTERPRISE, "-P", secrets.enterprise(ENTERPRISE).mqtt_password,
               "-i", f"bench-pub-{uuid.uuid4().hex[:6]}", "-M", "1000",
               "-t", f"hazmon/v1/{ENTERPRISE}/{device}/telemetry", "-l"]
    return subprocess.Popen(["sh", "-c", '{ cat "$0"; exec sleep 86400; } | "$@"', str(lines), *publish],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True)


def bare_paho_rate(settings: Settings, secrets: Secrets, lines: dict[str, Path], seconds: float) -> float:
    """Messages per second a bare paho-mqtt subscriber receives of ``lines``: QoS 1, the
    adapter's Receive Maximum, paho's own network thread, acknowledged on receipt, nothing but a
    count. What one Python client takes from this broker: the ceiling for the adapter."""
    arrivals: list[float] = []
    client = paho.Client(paho.CallbackAPIVersion.VERSION2, client_id=f"bench-paho-{uuid.uuid4().hex[:6]}",
                         protocol=paho.MQTTv5)
    client.username_pw_set(settings.mqtt_platform_user, secrets.platform_mqtt_password)
    client.on_message = lambda _client, _userdata, _message: arrivals.append(time.monotonic())
    properties = Properties(PacketTypes.CONNECT)
    properties.ReceiveMaximum = settings.ingest_receive_maximum
    client.connect(settings.mqtt_host, settings.mqtt_port, properties=properties)
    client.loop_start()
    try:
        client.subscribe(f"hazmon/v1/{ENTERPRISE}/+/telemetry", qos=1)
        time.sleep(0.5)  # the SUBACK
        publishers = start_publishers(settings, secrets, lines)
        time.sleep(seconds + 1)
        stop(publishers)
    finally:
        client.disconnect()
        client.loop_stop()
    window = [t for t in arrivals if t - arrivals[0] < seconds]
    # over the span that messages flowed: publishers that run out early must not dilute the rate
    return len(window) / max(window[-1] - window[0], 1e-3) if len(window) > 1 else 0.0


async def bare_rate(settings: Settings, secrets: Secrets, lines: dict[str, Path], seconds: float,
                    producer: AIOKafkaProducer | None = None) -> float:
    """Messages per second a bare aiomqtt subscriber (QoS 1) receives of the 1-reading stream; with
    ``producer``, each message is also sent as one Kafka record (a bare pass-through, no checks)."""
    client = platform_client(settings, f"bench-bare-{uuid.uuid4().hex[:6]}", persistent=False)
    topic = f"bench-passthrough-{uuid.uuid4().hex[:8]}"
    async with client:
        await client.subscribe(f"hazmon/v1/{ENTERPRISE}/+/telemetry", qos=1)
        publishers = start_publishers(settings, secrets, lines)
        count, started = 0, None
        try:
            async with asyncio.timeout(seconds + 1):
                async for message in client.messages:
                    started = started or time.monotonic()
                    if producer is not None:
                        await producer.send(topic, message.payload, key=ENTERPRISE.encode())
                    count += 1
                    if time.monotonic() - started >= seconds:
                        break
            if producer is not None:
                await producer.flush()
        except TimeoutError:
            pass
        finally:
            stop(publishers)
    return count / (time.monotonic() - started) if started else 0.0


async def adapter_rate(settings: Settings, secrets: Secrets, lines: dict[str, Path], seconds: float,
                       log: Path) -> tuple[float, float]:
    """(readings/s, messages/s) reaching Kafka from one adapter process fed at full speed."""
    suffix = f".bench-{uuid.uuid4().hex[:8]}"
    env = {**os.environ, "HAZMON_REGISTRY_DIR": str(settings.registry_dir),
           "HAZMON_INGEST_ENTERPRISES": f'["{ENTERPRISE}"]', "HAZMON_KAFKA_TOPIC_SUFFIX": suffix,
           "HAZMON_INGEST_CLIENT_ID": f"bench-ingest{suffix}", "HAZMON_INGEST_SHARE_GROUP": f"bench{suffix}",
           "HAZMON_INGEST_SESSION_EXPIRY_S": "0", "HAZMON_LOG_LEVEL": "WARNING"}
    adapter = subprocess.Popen([sys.executable, "-m", "hzctl.cli", "--log-level", "WARNING", "ingest", "run"],
                               env=env, stdout=log.open("ab"), stderr=subprocess.STDOUT, start_new_session=True)
    consumer = AIOKafkaConsumer(PlatformTopics.with_suffix(suffix).readings, bootstrap_servers=settings.kafka_bootstrap,
                                auto_offset_reset="earliest", enable_auto_commit=False, group_id=None)
    await asyncio.sleep(3)  # connect and subscribe
    await consumer.start()
    publishers = start_publishers(settings, secrets, lines)
    readings = 0
    started = time.monotonic()
    try:
        while time.monotonic() - started < seconds:
            for batch in (await consumer.getmany(timeout_ms=200)).values():
                for record in batch:
                    readings += len(orjson.loads(record.value)["ts"])
        elapsed = time.monotonic() - started
    finally:
        stop(publishers)
        await consumer.stop()
        os.killpg(adapter.pid, signal.SIGKILL)  # its session ends with it (expiry 0): no backlog left behind
        adapter.wait()
    with next(iter(lines.values())).open("rb") as first:
        per_message = len(orjson.loads(first.readline())["readings"])
    return readings / elapsed, readings / per_message / elapsed


async def main(seconds: float) -> dict[str, float]:
    settings = get_settings()
    with tempfile.TemporaryDirectory() as tmp:
        directory = Path(tmp)
        registry_dir = directory / "registry"
        registry_dir.mkdir()
        bench_registry(registry_dir)
        secrets = register_enterprises(settings, registry_dir)
        await asyncio.sleep(1)  # the broker reloads its password file
        settings = settings.model_copy(update={"registry_dir": registry_dir})
        phase = seconds / 5
        # more lines than the fastest reader takes in a phase (the input must not run out)
        batch50 = payload_lines(directory, "batch50", int(phase * 6000) + 1000, 50)
        batch1 = payload_lines(directory, "batch1", int(phase * 20000) + 1000, 1)
        log = directory / "adapter.log"
        readings50, _ = await adapter_rate(settings, secrets, batch50, phase, log)
        _, msgs1 = await adapter_rate(settings, secrets, batch1, phase, log)
        ceiling = await asyncio.to_thread(bare_paho_rate, settings, secrets, batch1, phase)
        aiomqtt_subscriber = await bare_rate(settings, secrets, batch1, phase)
        producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, enable_idempotence=True, acks="all",
                                    linger_ms=5)
        await producer.start()
        try:
            passthrough = await bare_rate(settings, secrets, batch1, phase, producer)
        finally:
            await producer.stop()
        problems = [line for line in log.read_text().splitlines() if "ERROR" in line or "Traceback" in line]
        for line in problems[:10]:
            print(line, file=sys.stderr)
    return {"readings_per_s_batch50": round(readings50), "msgs_per_s_batch1": round(msgs1),
            "ceiling_msgs_per_s": round(ceiling), "ratio_batch1": round(msgs1 / ceiling, 3) if ceiling else 0.0,
            "aiomqtt_subscriber_msgs_per_s": round(aiomqtt_subscriber), "passthrough_msgs_per_s": round(passthrough),
            "seconds_per_phase": round(phase, 1)}


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=20.0, help="total measuring time (five phases)")
    result = asyncio.run(main(parser.parse_args().seconds))
    print(orjson.dumps(result).decode())
