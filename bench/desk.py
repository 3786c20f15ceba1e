"""Benchmark: the duty desk's live list with ``--alarms`` (10 000) open alarms, on the local stack (Kafka, InfluxDB).

Produces the open alarms (the sample registry's points, one in ten second-level) to fresh alarm topics, starts
one alerting service with the desk, signs a duty account in, then ``--rounds`` times:

- ``snapshot_ms``: a signed-in client opens ``/desk/events`` until its ``snapshot`` (every open alarm) is read;
- ``api_first_page_ms``: ``GET /api/v1/alarms?limit=500`` with the session, the API's first page;
- ``browser_first_page_ms``: headless Chromium opens ``/desk`` until the list shows its first page of rows and
  counts every alarm, on the page's own clock from its navigation (the page's script, the event stream, the
  rendering; the first poll that sees it, every 10 ms);
- ``push_sse_ms`` / ``push_browser_ms``: a new transition produced to Kafka until its ``alarm`` event is read
  from an open event stream, and until its row is on the open page (goal: under 1 s, issue 17);
- ``loop_stalls_s_ms``: when (s from the start) the process's event loop came back more than 200 ms late, and by how
  much (the service folds, writes and serves in that one loop).

With ``--load 20000`` the rounds run while the pipeline carries that many readings/s: bench/pipeline.py's county
(its generated enterprises and the sample registry) and load (``hazmon sim load``) through ingest, a rules worker
and the recorder as children (testbed/pipeline.py), this process being the pipeline's alerting (it folds the rules'
transitions and serves the desk on the pipeline's API port). The rounds start ``LOAD_WARM_UP_S`` after the first
readings reached Kafka. The JSON adds the load's published readings/s, the records/s that reached the readings topic
during the rounds (ingest's batches of readings: a sign of flow, not a reading count), the rules worker's lag
(bench/pipeline.py's figures), ``rounds_under_load`` (rounds whose push ended before the load did) and the push's
p50/p99 over those rounds.

Topics, the scratch InfluxDB database and the desk's files are deleted at the end. Last stdout line: JSON.

    .venv/bin/python bench/desk.py --alarms 10000 --rounds 5
    .venv/bin/python bench/desk.py --alarms 10000 --rounds 10 --load 20000 --load-seconds 180
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from dataclasses import astuple
from pathlib import Path

import aiohttp
import numpy as np
import orjson
from aiohttp import web
from aiokafka import AIOKafkaProducer
from selenium.common.exceptions import TimeoutException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait
from urllib3.exceptions import ReadTimeoutError

sys.path[0] = str(Path(__file__).resolve().parents[1])

from alerting.api.routes import build_app  # noqa: E402
from bench.pipeline import (CONNECTIONS, GENERATED_ENTERPRISES, READINGS_PER_MESSAGE, GroupLag, lag_figures,  # noqa: E402
                            percentiles, progress, sample_lag)
from device_sim.county import county_with_sample  # noqa: E402
from alerting.clock import ManualClock  # noqa: E402
from alerting.desk.accounts import Accounts  # noqa: E402
from alerting.desk.handover import Handovers  # noqa: E402
from alerting.desk.source import DeskStores  # noqa: E402
from alerting.service import AlertingService  # noqa: E402
from hazmon import wire  # noqa: E402
from hazmon.registry import PointType, Registry, load_registry  # noqa: E402
from hazmon.secrets import Secrets, token_index  # noqa: E402
from hazmon.settings import PACKAGE_DIR, Settings, get_settings  # noqa: E402
from hazmon.topics import PlatformTopics  # noqa: E402
from hzctl.stack.mosquitto import register_enterprises  # noqa: E402
from testbed.browser import chromium  # noqa: E402
from testbed.kafka_admin import delete_topics  # noqa: E402
from testbed.pipeline import IsolatedPipeline  # noqa: E402

PASSWORD = "bench-desk-password"
GOAL_PUSH_MS = 1000.0
BROWSER_WAIT_S = 120
LOAD_WARM_UP_S = 10.0   # the rounds start this long after the load: the rules worker at its pace
JOIN_S = 15.0           # the rules worker joins its group (as bench/pipeline.py waits)


def opened(registry: Registry, alarms: int, now_ms: int, prefix: str) -> list[wire.AlarmTransition]:
    """``alarms`` limit alarms confirmed on the registry's points, one a second up to ``now_ms``, one in ten second-level."""
    entries = [e for e in registry.points.values() if e.point.type is not PointType.FIRE_DETECTOR]
    records: list[wire.AlarmTransition] = []
    for i in range(alarms):
        entry, at = entries[i % len(entries)], now_ms - (alarms - i) * 1000
        level = "high_high" if i % 10 == 0 else "high"
        records.append({"v": 1, "id": f"{prefix}{i:06d}", "transition": "confirmed", "enterprise": entry.enterprise,
                        "site": entry.site.id, "device": entry.point.device, "point": entry.point.id, "rule": "limit",
                        "level": level, "severity": 2 if level == "high_high" else 1, "value": 9.5, "limit": 9.0,
                        "started_at": at, "reading_ts": at, "emitted_ms": at, "message": f"基准报警 {i}",
                        "message_en": f"bench alarm {i}"})
    return records


async def produce(producer: AIOKafkaProducer, topic: str, records: list[wire.AlarmTransition]) -> None:
    for record in records:
        await producer.send(topic, wire.encode(record), key=record["enterprise"].encode())
    await producer.flush()


async def signed_in(base: str) -> aiohttp.ClientSession:
    http = aiohttp.ClientSession(cookie_jar=aiohttp.CookieJar(unsafe=True))
    async with http.post(f"{base}/desk/login", data={"name": "bench", "password": PASSWORD}, headers={"Origin": base},
                         allow_redirects=False) as answer:
        assert answer.status == 303, answer.status
    return http


class Events:
    """Server-sent events read off a stream (a snapshot of 10 000 alarms is one line of megabytes)."""

    def __init__(self, stream: aiohttp.ClientResponse) -> None:
        self.stream, self.buffer = stream, b""

    async def next(self) -> tuple[str, bytes]:
        while b"\n\n" not in self.buffer:
            chunk = await self.stream.content.readany()
            if not chunk:
                raise EOFError("the event stream ended")
            self.buffer += chunk
        event, self.buffer = self.buffer.split(b"\n\n", 1)
        fields = dict(line.split(b": ", 1) for line in event.split(b"\n") if b": " in line)
        if b"event" not in fields:     # a keep-alive comment
            return await self.next()
        return fields[b"event"].decode(), fields[b"data"]


async def snapshot_ms(http: aiohttp.ClientSession, base: str) -> tuple[float, int, int]:
    """Milliseconds from opening the event stream to its snapshot read and parsed, its alarms and bytes."""
    began = time.perf_counter()
    async with http.get(f"{base}/desk/events") as stream:
        name, data = await Events(stream).next()
        alarms = len(orjson.loads(data))
    assert name == "snapshot"
    return (time.perf_counter() - began) * 1000, alarms, len(data)


async def api_first_page_ms(http: aiohttp.ClientSession, base: str) -> float:
    began = time.perf_counter()
    async with http.get(f"{base}/api/v1/alarms?limit=500") as answer:
        assert orjson.loads(await answer.read())["alarms"]
    return (time.perf_counter() - began) * 1000


def desk_browser(profile: Path) -> WebDriver:
    """Chromium as an officer's desk: eager loading, since the rows are the measure, not the load event (the event stream stays open)."""
    browser = chromium(profile, page_load_strategy="eager")
    browser.set_window_size(1400, 900)
    return browser


def browser_sign_in(browser: WebDriver, base: str) -> None:
    browser.get(f"{base}/desk/login")
    browser.find_element(By.NAME, "name").send_keys("bench")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "button[type=submit]").click()
    WebDriverWait(browser, 120).until(lambda b: b.find_elements(By.CSS_SELECTOR, "#alarms tr"))   # settled: its list drawn


def browser_first_page_ms(browser: WebDriver, base: str, alarms: int) -> float | None:
    """Milliseconds from the navigation to ``/desk`` (the page's own clock) to its first rows shown and the ``alarms``
    open when it was asked for counted (more under load: the rules raise their own): what the officer waits, without
    the driver's own round trips; None when the page did not answer the driver within :data:`BROWSER_WAIT_S` (counted
    as ``browser_stalls``)."""
    try:
        browser.get(f"{base}/desk")
        return WebDriverWait(browser, BROWSER_WAIT_S, poll_frequency=0.01).until(lambda b: b.execute_script(
            "return document.querySelector('#alarms tr') !== null && Number(document.getElementById('count').textContent) "
            ">= arguments[0] && performance.now()", alarms))
    except (TimeoutException, ReadTimeoutError):
        return None


def row_shown(browser: WebDriver, alarm_id: str) -> None:
    WebDriverWait(browser, 30, poll_frequency=0.005).until(
        lambda b: b.execute_script("return document.querySelector(`#alarms tr[data-id='${arguments[0]}']`) !== null",
                                   alarm_id))


async def push_ms(producer: AIOKafkaProducer, topic: str, http: aiohttp.ClientSession, base: str, browser: WebDriver,
                  record: wire.AlarmTransition) -> tuple[float, float]:
    """Milliseconds from producing ``record`` to its event on an open stream, and to its row on the open page."""
    async with http.get(f"{base}/desk/events") as stream:
        events = Events(stream)
        assert (await events.next())[0] == "snapshot"

        async def pushed() -> float:
            while True:
                name, data = await events.next()
                if name == "alarm" and orjson.loads(data)["alarm"]["id"] == record["id"]:
                    return (time.perf_counter() - began) * 1000

        began = time.perf_counter()
        waiting = asyncio.create_task(pushed())
        await produce(producer, topic, [record])
        await asyncio.to_thread(row_shown, browser, record["id"])
        in_browser = (time.perf_counter() - began) * 1000
        return await asyncio.wait_for(waiting, 30), in_browser


async def watch_loop(stalls: list[tuple[float, float]], began: float) -> None:
    """Record each time the event loop (the service's and the desk's) came back more than 200 ms late: (when, ms)."""
    while True:
        before = time.perf_counter()
        await asyncio.sleep(0.05)
        late_ms = (time.perf_counter() - before - 0.05) * 1000
        if late_ms > 200:
            stalls.append((round(before - began, 1), round(late_ms)))


def spread(values: list[float]) -> dict[str, float]:
    return {"min": round(min(values), 1), "median": round(statistics.median(values), 1), "max": round(max(values), 1)}


async def start_pipeline(pipeline: IsolatedPipeline) -> None:
    """Ingest, a rules worker and the recorder, once this process's API answers on the pipeline's port (its alerting)."""
    pipeline.start_ingest()
    pipeline.start_rules()
    pipeline.start_recorder()
    await pipeline.wait_started()
    await asyncio.sleep(JOIN_S)


def start_load(pipeline: IsolatedPipeline, county_dir: Path, rate: float, seconds: float) -> subprocess.Popen:
    """bench/pipeline.py's load: ``rate`` readings/s over its connections, READINGS_PER_MESSAGE a message."""
    return pipeline.sim(["load", "--county", str(county_dir), "--connections", str(CONNECTIONS), "--rate",
                         str(rate / READINGS_PER_MESSAGE), "--seconds", str(seconds), "--readings", str(READINGS_PER_MESSAGE),
                         "--run-id", pipeline.unique])


def sim_logs(log_dir: Path) -> str:
    """The end of each ``hazmon sim`` child's log (testbed/pipeline.py ``sim``)."""
    return "".join(path.read_text(errors="replace")[-2000:] for path in sorted(log_dir.glob("sim-*.log")))


async def flowing(lag: GroupLag, load: subprocess.Popen, log_dir: Path) -> None:
    """Until the load's readings reach the readings topic (its process starts slowly on a busy machine)."""
    while not sum((await lag.ends()).values()):
        if load.poll() is not None:
            said = await asyncio.to_thread(sim_logs, log_dir)
            raise RuntimeError(f"the load ended (exit {load.returncode}) before any reading reached Kafka:\n{said}")
        await asyncio.sleep(0.5)


def load_figures(load: subprocess.Popen, lag_samples: list[tuple[float, int]], started: float, under_load: list[bool],
                 pushes: list[tuple[float, float]]) -> dict:
    """What the load published (its own report), the rules worker's lag over it, and the push's p50/p99 under it."""
    out, _ = load.communicate()
    report = orjson.loads(out.splitlines()[-1])
    loaded = [p for p, during in zip(pushes, under_load) if during]
    sse, shown = (percentiles(np.array([p[i] / 1000 for p in loaded])) for i in (0, 1))
    return {"load_readings_per_s": report["readings_per_s"], "load_readings": report["readings"],
            "rounds_under_load": sum(under_load), **lag_figures(lag_samples, started),
            "push_sse_under_load_s": sse, "push_browser_under_load_s": shown}


async def drop_run(settings: Settings, names: PlatformTopics, database: str, home: Path) -> None:
    """A bench run's Kafka topics, its InfluxDB database and its files, gone."""
    await delete_topics(settings.kafka_bootstrap, set(astuple(names)).__contains__)
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session:
        await session.post(f"{settings.influx_url}/query", data={"q": f'DROP DATABASE "{database}"'})
    shutil.rmtree(home, ignore_errors=True)


async def main(alarms: int, rounds: int, load_rate: float, load_seconds: float) -> dict:
    base_settings = get_settings()
    run = uuid.uuid4().hex[:10]
    home = Path(tempfile.mkdtemp(prefix="hazmon-bench-desk-"))
    pipeline: IsolatedPipeline | None = None
    if load_rate:
        county_dir = county_with_sample(home, GENERATED_ENTERPRISES, 5, PACKAGE_DIR / "sample_registry")
        secrets = register_enterprises(base_settings, county_dir)
        pipeline = IsolatedPipeline(base_settings, home / "pipeline", county_dir, run, secrets.duty_token)
        names, influx_db, registry_dir = pipeline.names, pipeline.influx_db, county_dir
    else:
        names, influx_db, registry_dir = PlatformTopics.with_suffix(f".bench-desk-{run}"), f"bench_desk_{run}", None
    settings = base_settings.model_copy(update={"home": home, "influx_db": influx_db, "alerting_webhooks": [],
                                                "kafka_topic_suffix": names.suffix,
                                                "registry_dir": registry_dir or base_settings.registry_dir,
                                                "alerting_dingtalk_urls": [], "alerting_wecom_urls": [],
                                                "alerting_channels": [], "grafana_url": None})
    registry = load_registry(settings.registry_dir)
    now_ms = time.time_ns() // 1_000_000
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=0, enable_idempotence=True,
                                acks="all")
    await producer.start()
    browser: WebDriver | None = None
    desk = DeskStores(Accounts(home / "desk.sqlite3"), Handovers(home / "desk.sqlite3"))
    desk.accounts.add("bench", "duty", PASSWORD, display_name="基准值班员")
    service = AlertingService(settings, registry, clock=ManualClock(now_ms))
    runner: web.AppRunner | None = None
    stalls: list[tuple[float, float]] = []
    phases: dict[str, float] = {}
    began = time.perf_counter()
    watcher = asyncio.create_task(watch_loop(stalls, began))
    load: subprocess.Popen | None = None
    lag_clients = contextlib.AsyncExitStack()
    lag_sampling: asyncio.Task | None = None
    lag_samples: list[tuple[float, int]] = []
    under_load: list[bool] = []
    loaded: dict = {}
    http: aiohttp.ClientSession | None = None
    try:
        if pipeline is not None:
            await pipeline.create_topics()
        await produce(producer, names.transitions, opened(registry, alarms, now_ms, "open-"))
        await service.start()
        await service.caught_up(timeout_s=600.0)
        assert len(service.book.alarms) == alarms, len(service.book.alarms)
        app = build_app(service, token_index(Secrets(platform_mqtt_password="-", duty_token="-", enterprises={})), desk)
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", pipeline.api_port if pipeline is not None else 0)
        await site.start()
        base = f"http://127.0.0.1:{site._server.sockets[0].getsockname()[1]}"  # noqa: SLF001 - the port the OS picked
        http = await signed_in(base)
        browser = await asyncio.to_thread(desk_browser, home / "chromium-profile")
        await asyncio.to_thread(browser_sign_in, browser, base)
        if pipeline is not None:
            await start_pipeline(pipeline)
            progress(f"pipeline up; offering {load_rate:.0f} readings/s for {load_seconds:.0f} s")
            lag = await lag_clients.enter_async_context(GroupLag(settings, names.readings))
            load, load_started = start_load(pipeline, registry_dir, load_rate, load_seconds), time.monotonic()
            lag_sampling = asyncio.create_task(sample_lag(lag, pipeline.env["HAZMON_RULES_APP_ID"], 5.0, lag_samples))
            await flowing(lag, load, pipeline.supervisor.log_dir)
            await asyncio.sleep(LOAD_WARM_UP_S)
            carried = (sum((await lag.ends()).values()), time.monotonic())
        snapshots, api_pages, first_pages, pushes = [], [], [], []
        new = opened(registry, rounds, now_ms + 1000, "new-")
        for i in range(rounds):
            phases[f"round{i + 1}"] = round(time.perf_counter() - began, 1)
            snapshots.append(await snapshot_ms(http, base))
            api_pages.append(await api_first_page_ms(http, base))
            open_now = sum(a.state != "closed" for a in service.book.alarms.values())
            first_pages.append(await asyncio.to_thread(browser_first_page_ms, browser, base, open_now))
            pushes.append(await push_ms(producer, names.transitions, http, base, browser, new[i]))
            under_load.append(load is not None and load.poll() is None)
        if load is not None:
            readings_then, then = carried
            carried_per_s = (sum((await lag.ends()).values()) - readings_then) / (time.monotonic() - then)
            progress("rounds done; waiting for the load to end")
            loaded = await asyncio.to_thread(load_figures, load, lag_samples, load_started, under_load, pushes)
            loaded["readings_topic_records_per_s_during_rounds"] = round(carried_per_s)   # ingest's batches, not readings
    finally:
        if http is not None:
            await http.close()
        watcher.cancel()
        if lag_sampling is not None:
            lag_sampling.cancel()
        if load is not None and load.poll() is None:
            load.terminate()
        await lag_clients.aclose()
        if pipeline is not None:
            await asyncio.to_thread(pipeline.supervisor.stop_all)
        if browser is not None:
            await asyncio.to_thread(browser.quit)
        if runner is not None:
            await runner.cleanup()
        await service.stop()
        await producer.stop()
        desk.close()
        await drop_run(settings, names, settings.influx_db, home)
    return {
        "open_alarms": alarms, "rounds": rounds, "snapshot_bytes": snapshots[-1][2],
        "snapshot_ms": spread([ms for ms, _, _ in snapshots]), "api_first_page_ms": spread(api_pages),
        "browser_first_page_ms": spread([ms for ms in first_pages if ms is not None]),
        "browser_stalls": sum(ms is None for ms in first_pages), "push_sse_ms": spread([s for s, _ in pushes]),
        "push_browser_ms": spread([b for _, b in pushes]), "goal_push_ms": GOAL_PUSH_MS,
        "push_under_goal": all(max(s, b) < GOAL_PUSH_MS for s, b in pushes), "load_offered_readings_per_s": load_rate,
        **loaded,
        "loop_stalls_s_ms": stalls, "rounds_start_s": phases,
        "rounds_ms": {"snapshot": [round(ms) for ms, _, _ in snapshots], "browser_first_page": [ms and round(ms) for ms in first_pages],
                      "push_sse": [round(s) for s, _ in pushes], "push_browser": [round(b) for _, b in pushes]},
    }


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--alarms", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--load", type=float, default=0.0,
                        help="readings/s the pipeline carries during the rounds (20000); 0: an idle pipeline")
    parser.add_argument("--load-seconds", type=float, default=180.0, help="how long the load runs (the rounds must fit)")
    args = parser.parse_args()
    print(orjson.dumps(asyncio.run(main(args.alarms, args.rounds, args.load, args.load_seconds))).decode())
