"""Benchmark: the alarm record with years of alarms: alerting's restart and the listing of every open alarm.

Produces ``--alarms`` historic alarms over two years (``testbed/alarm_history.py``: one in
``--open-every`` still open, the oldest among them, the rest acknowledged, cleared and closed) to
fresh alarm topics, lets one alerting service fold them from the topics (as every restart did before
the ledger), then restarts alerting ``--restarts`` times, each after ``--tail`` new transitions
(restored from the ledger plus the tail), and lists every open alarm through the HTTP API
(``state=active`` then ``state=acknowledged``, 5 000 per page, following ``next``) ``--listings``
times, from a client in a process of its own (this script with ``--list URL``), as a desk would. Topics, scratch InfluxDB database and ledger are deleted at the end. Last stdout line: JSON.

    .venv/bin/python bench/alarm_record.py --alarms 100000
"""

from __future__ import annotations

import argparse
import asyncio
import resource
import statistics
import sys
import tempfile
import time
import uuid
from dataclasses import astuple
from pathlib import Path

import aiohttp
import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer

sys.path[0] = str(Path(__file__).resolve().parents[1])

from alerting.api.routes import build_app  # noqa: E402
from alerting.clock import ManualClock  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from alerting.service import AlertingService  # noqa: E402
from hazmon import wire  # noqa: E402
from hazmon.registry import load_registry  # noqa: E402
from hazmon.secrets import Secrets, token_index  # noqa: E402
from hazmon.settings import Settings, get_settings  # noqa: E402
from testbed.alarm_history import historic_log  # noqa: E402
from testbed.kafka_admin import delete_topics  # noqa: E402

DUTY_TOKEN = "bench-duty-token"
GOAL_RESTART_S = 10.0
GOAL_LIST_MS = 200.0


async def produce(bootstrap: str, topic: str, records: list[dict]) -> None:
    producer = AIOKafkaProducer(bootstrap_servers=bootstrap, linger_ms=20, max_batch_size=1 << 20,
                                enable_idempotence=True, acks="all")
    await producer.start()
    try:
        for record in records:
            await producer.send(topic, wire.encode(record), key=record["enterprise"].encode())
        await producer.flush()
    finally:
        await producer.stop()


async def started(settings: Settings, names: PlatformTopics, now_ms: int) -> tuple[AlertingService, float]:
    """A service caught up on the alarm log, and the seconds from its start until then."""
    service = AlertingService(settings.model_copy(update={"kafka_topic_suffix": names.suffix}),
                              load_registry(settings.registry_dir), clock=ManualClock(now_ms))
    began = time.perf_counter()
    await service.start()
    await service.caught_up(timeout_s=600.0)
    return service, time.perf_counter() - began


async def list_open(session: aiohttp.ClientSession, base: str) -> tuple[float, int, int]:
    """Milliseconds to read every open alarm's page from the API, the alarms and the requests."""
    headers = {"Authorization": f"Bearer {DUTY_TOKEN}"}
    count, requests = 0, 0
    began = time.perf_counter()
    for state in ("active", "acknowledged"):
        cursor = None
        while True:
            url = f"{base}/api/v1/alarms?state={state}&limit=5000" + (f"&cursor={cursor}" if cursor else "")
            async with session.get(url, headers=headers) as response:
                body = await response.read()
            requests += 1
            page = orjson.loads(body)
            count += len(page["alarms"])
            cursor = page["next"]
            if cursor is None:
                break
    return (time.perf_counter() - began) * 1000, count, requests


async def ledger_writes(service: AlertingService, repeats: int = 5) -> dict[str, float]:
    """Median milliseconds of one ledger transaction replacing 1, 100 and 5 000 alarms (a folded batch's write)."""
    sample = list(service.book.alarms.values())
    medians: dict[str, float] = {}
    for size in (1, 100, 5000):
        times = []
        for _ in range(repeats):
            for alarm in sample[:size]:
                alarm.revision += 1
            began = time.perf_counter()
            await service.ledger.write(sample[:size], [], [], {})
            times.append((time.perf_counter() - began) * 1000)
        medians[str(size)] = round(statistics.median(times), 2)
    return medians


def timed(into: list[float]):
    @web.middleware
    async def middleware(request: web.Request, handler):
        began = time.perf_counter()
        response = await handler(request)
        into.append((time.perf_counter() - began) * 1000)
        return response
    return middleware


async def listings_of(base: str, listings: int) -> list[tuple[float, int, int]]:
    async with aiohttp.ClientSession() as session:
        return [await list_open(session, base) for _ in range(listings)]


def spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 3), "median": round(statistics.median(values), 3), "max": round(max(values), 3)}


async def main(alarms: int, open_every: int, enterprises: int, restarts: int, tail: int, listings: int) -> dict:
    base_settings = get_settings()
    run = uuid.uuid4().hex[:10]
    names = PlatformTopics.with_suffix(f".bench-alarm-{run}")
    home = Path(tempfile.mkdtemp(prefix="hazmon-bench-alarm-record-"))
    settings = base_settings.model_copy(update={"home": home, "influx_db": f"bench_alarm_record_{run}",
                                                "alerting_webhooks": [], "alerting_dingtalk_urls": [],
                                                "alerting_wecom_urls": [], "alerting_channels": [],
                                                "grafana_url": None, "api_host": "127.0.0.1", "api_port": 0})
    now_ms = time.time_ns() // 1_000_000
    ids = [f"BENCH{i:013d}" for i in range(enterprises)]
    try:
        transitions, actions = historic_log(alarms, now_ms, ids, open_every=open_every)
        opened = [record for record in transitions if record["transition"] == "confirmed"][:tail]
        records = len(transitions) + len(actions)
        began = time.perf_counter()
        await produce(settings.kafka_bootstrap, names.transitions, transitions)
        await produce(settings.kafka_bootstrap, names.actions, actions)
        produce_s = time.perf_counter() - began
        del transitions, actions   # the bench's copy of the history would weigh on the service's memory and GC
        service, first_fold_s = await started(settings, names, now_ms)
        open_alarms = len(service.book.alarms)
        await service.stop()

        restart_s: list[float] = []
        for round_ in range(restarts):
            extra = [{**record, "id": f"tail{round_}-{record['id']}", "emitted_ms": now_ms + round_}
                     for record in opened]
            await produce(settings.kafka_bootstrap, names.transitions, extra)
            service, seconds = await started(settings, names, now_ms + round_)
            restart_s.append(seconds)
            in_memory = len(service.book.alarms)
            replayed = service.log.replayed
            if round_ < restarts - 1:
                await service.stop()

        app = build_app(service, token_index(Secrets(platform_mqtt_password="-", duty_token=DUTY_TOKEN, enterprises={})))
        handler_ms: list[float] = []
        app.middlewares.append(timed(handler_ms))   # innermost: the handlers' own time, no transfer
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = site._server.sockets[0].getsockname()[1]  # noqa: SLF001 - the port the OS picked
        client = await asyncio.create_subprocess_exec(sys.executable, __file__, "--list", f"http://127.0.0.1:{port}",
                                                      "--listings", str(listings), stdout=asyncio.subprocess.PIPE)
        listed = [tuple(row) for row in orjson.loads((await client.communicate())[0])]
        await runner.cleanup()
        write_ms = await ledger_writes(service)
        await service.stop()
    finally:
        await delete_topics(settings.kafka_bootstrap, set(astuple(names)).__contains__)
        async with aiohttp.ClientSession(headers=settings.influx_headers) as session:
            await session.post(f"{settings.influx_url}/query", data={"q": f'DROP DATABASE "{settings.influx_db}"'})
    ledger = home / "alerting" / "ledger.sqlite3"
    return {
        "alarms": alarms, "open_alarms": open_alarms, "enterprises": enterprises,
        "records": records, "produce_s": round(produce_s, 2),
        "first_fold_s": round(first_fold_s, 2), "restart_s": [round(s, 3) for s in restart_s],
        "restart": spread(restart_s), "tail_records_per_restart": replayed, "alarms_in_memory_after_restart": in_memory,
        "list_open_ms": [round(ms, 1) for ms, _, _ in listed], "list_open": spread([ms for ms, _, _ in listed]),
        "list_open_handlers_ms": [round(sum(handler_ms[i:i + listed[0][2]]), 1)
                                  for i in range(0, len(handler_ms), listed[0][2])],
        "listed_alarms": listed[-1][1], "list_requests": listed[-1][2],
        "ledger_write_ms": write_ms,
        "ledger_mb": round(sum(p.stat().st_size for p in ledger.parent.glob("ledger.sqlite3*")) / 1e6, 1),
        "max_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1),
        "goal_restart_s": GOAL_RESTART_S, "goal_list_ms": GOAL_LIST_MS,
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alarms", type=int, default=100_000)
    parser.add_argument("--open-every", type=int, default=10, help="one alarm in this many is still open")
    parser.add_argument("--enterprises", type=int, default=1000)
    parser.add_argument("--restarts", type=int, default=5)
    parser.add_argument("--tail", type=int, default=100, help="new transitions before each restart")
    parser.add_argument("--listings", type=int, default=5)
    parser.add_argument("--list", metavar="URL", help="only list the open alarms of the API at URL (the client side)")
    args = parser.parse_args()
    if args.list:
        print(orjson.dumps(asyncio.run(listings_of(args.list, args.listings))).decode())
    else:
        result = asyncio.run(main(args.alarms, args.open_every, args.enterprises, args.restarts, args.tail, args.listings))
        print(orjson.dumps(result).decode())
