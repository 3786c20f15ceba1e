"""Benchmark: how fast ``hazmon sim load`` publishes, against a bare client, and how exactly it paces.

Three phases of SECONDS/3 each on the local Mosquitto, with C connections (one per device of a
generated county, each with its enterprise's credentials), messages of R readings, QoS 1:
1. ``sim load`` at maximum rate: messages/s and readings/s acknowledged;
2. the ceiling: bare aiomqtt publishers, the same connections and window, one fixed payload each
   (no signal values, no per-message encoding): messages/s;
3. ``sim load`` paced at half the rate of phase 1, counted by a platform-account subscriber:
   delivered rate / target rate.
Last stdout line: JSON with ``sim_msgs_per_s``, ``sim_readings_per_s``, ``ceiling_msgs_per_s``,
``ratio``, ``paced_target``, ``paced_delivered_per_s`` and ``paced_accuracy``.

    .venv/bin/python bench/device_sim.py --seconds 15
"""

from __future__ import annotations

import argparse
import asyncio
import sys
import time
import uuid
from pathlib import Path

# this file is named like the package it measures: import the package, not this script
sys.path[0] = str(Path(__file__).resolve().parents[1])

import aiomqtt  # noqa: E402
import orjson  # noqa: E402

from device_sim.county import write_county  # noqa: E402
from device_sim.load import LoadPlan, Telemetry, load_devices, run_load  # noqa: E402
from hzctl.stack.accounts import broker_passwords  # noqa: E402
from hazmon.secrets import load_secrets  # noqa: E402
from hazmon.settings import Settings, get_settings  # noqa: E402


async def bare_publishers(settings: Settings, county: Path, connections: int, readings: int, seconds: float) -> float:
    """Messages/s of plain aiomqtt clients publishing one fixed payload each, QoS 1, same window."""
    passwords = broker_passwords(settings, county)
    chosen = load_devices(county, connections)
    counts = [0] * connections

    async def publisher(index: int, enterprise: str, device: str, payload: bytes) -> None:
        window = asyncio.Semaphore(settings.sim_max_inflight)
        topic = f"hazmon/v1/{enterprise}/{device}/telemetry"
        async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=enterprise,
                                  password=passwords[enterprise], identifier=f"bench-bare-{index}-{uuid.uuid4().hex[:6]}",
                                  protocol=aiomqtt.ProtocolVersion.V5,
                                  max_inflight_messages=settings.sim_max_inflight) as client:
            deadline = time.monotonic() + seconds
            pending: set[asyncio.Task] = set()

            async def send() -> None:
                try:
                    await client.publish(topic, payload, qos=1)
                    counts[index] += 1
                finally:
                    window.release()

            while time.monotonic() < deadline:
                await window.acquire()
                task = asyncio.create_task(send())
                pending.add(task)
                task.add_done_callback(pending.discard)
            await asyncio.gather(*pending)

    payloads = [Telemetry(entries, readings, "bare").next_payload()[0] for _, _, entries in chosen]
    started = time.monotonic()
    await asyncio.gather(*(publisher(i, e, d, p) for i, ((e, d, _), p) in enumerate(zip(chosen, payloads))))
    return sum(counts) / (time.monotonic() - started)


async def paced_delivery(settings: Settings, county: Path, plan: LoadPlan) -> float:
    """Messages/s of the paced run that reach a platform subscriber."""
    password = load_secrets(settings.secrets_path).platform_mqtt_password
    received = 0
    async with aiomqtt.Client(settings.mqtt_host, settings.mqtt_port, username=settings.mqtt_platform_user,
                              password=password, identifier=f"bench-sim-count-{plan.run_id}",
                              protocol=aiomqtt.ProtocolVersion.V5) as subscriber:
        await subscriber.subscribe("hazmon/v1/+/+/telemetry", qos=1)

        async def count() -> None:
            nonlocal received
            marker = f'"sim":"{plan.run_id}"'.encode()
            async for message in subscriber.messages:
                received += marker in message.payload
        counter = asyncio.create_task(count())
        await run_load(settings, county, plan, broker_passwords(settings, county))
        await asyncio.sleep(1.0)
        counter.cancel()
    return received / plan.seconds


async def bench(seconds: float, connections: int, readings: int) -> dict:
    settings = get_settings()
    county = settings.home / "sim" / "bench-county-40"
    if not county.is_dir():
        write_county(county, 40, seed=1)
    phase = seconds / 3
    sim = await run_load(settings, county, LoadPlan(connections, 0.0, phase, readings, uuid.uuid4().hex[:8]),
                         broker_passwords(settings, county))
    ceiling = await bare_publishers(settings, county, connections, readings, phase)
    target = round(sim["messages_per_s"] / 2, -1)
    delivered = await paced_delivery(settings, county, LoadPlan(connections, target, phase, readings, uuid.uuid4().hex[:8]))
    return {"connections": connections, "readings_per_message": readings,
            "sim_msgs_per_s": sim["messages_per_s"], "sim_readings_per_s": sim["readings_per_s"],
            "ceiling_msgs_per_s": round(ceiling, 1), "ratio": round(sim["messages_per_s"] / ceiling, 3),
            "paced_target": target, "paced_delivered_per_s": round(delivered, 1),
            "paced_accuracy": round(delivered / target, 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seconds", type=float, default=15.0, help="total measuring time (three phases)")
    parser.add_argument("--connections", type=int, default=20, help="device connections")
    parser.add_argument("--readings", type=int, default=20, help="readings per message")
    args = parser.parse_args()
    print(orjson.dumps(asyncio.run(bench(args.seconds, args.connections, args.readings))).decode())


if __name__ == "__main__":
    main()
