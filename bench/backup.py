"""Benchmark: how long ``hazmon backup`` and ``hazmon restore`` take for how much.

A scratch installation (a temporary home with the sample registry and a secrets file) gets
``--alarms`` alarm transitions of about 600 bytes each (the size of the rules worker's, Chinese
text included) and one acknowledgement per two alarms on alarm topics of its own, and ``--readings``
readings (one a minute per point, ``--points``) in a scratch InfluxDB database made as the recorder makes it; then it is backed up and restored into fresh topics and a fresh database, each step timed
from the progress lines. Topics and databases are deleted at the end. Last stdout line: JSON.

    .venv/bin/python bench/backup.py --alarms 200000 --readings 2000000
"""

from __future__ import annotations

import argparse
import asyncio
import shutil
import sys
import tempfile
import time
import uuid
from pathlib import Path

import aiohttp
import orjson
from aiokafka import AIOKafkaProducer
from aiokafka.admin import AIOKafkaAdminClient

sys.path[0] = str(Path(__file__).resolve().parents[1])

from recorder.influx import InfluxWriter  # noqa: E402
from hazmon import topics  # noqa: E402
from hzctl.backup import backup, restore  # noqa: E402
from hazmon.kafka_topics import ensure_topics  # noqa: E402
from hazmon.secrets import load_secrets  # noqa: E402
from hazmon.series import RAW_POLICY  # noqa: E402
from hazmon.settings import PACKAGE_DIR, Settings, get_settings  # noqa: E402
from hzctl.stack.influxdb import query  # noqa: E402

WRITE_AT_ONCE = 50_000


def transition(n: int, now: int) -> dict:
    return {"v": 1, "id": f"{n:024x}", "enterprise": f"91433127MA4CHEM{n % 50:03d}", "site": "TF01",
            "device": "RTU01", "point": f"TK01_LT{n % 7}", "rule": "limit", "level": "high",
            "transition": "confirmed", "severity": 2, "value": 9.4, "limit": 9.0, "started_at": now - n * 1000,
            "reading_ts": now - n * 1000, "emitted_ms": now - n * 1000 + 400,
            "message": "永顺县灵溪化工有限公司 1号储罐区 TK01 液位：高于上限 9.0 m（当前 9.4 m）；时间 2026-12-07 10:02:53",
            "message_en": "Yongshun Lingxi Chemicals tank farm 1 TK01 level: above the high limit 9.0 m (now 9.4 m)",
            "extra": {}}


async def write_alarm_record(settings: Settings, suffix: str, alarms: int) -> None:
    names = {base: base + suffix for base in (topics.ALARM_TRANSITIONS, topics.ALARM_ACTIONS)}
    await ensure_topics(settings, names.values())
    producer = AIOKafkaProducer(bootstrap_servers=settings.kafka_bootstrap, linger_ms=20, max_batch_size=1 << 20,
                                enable_idempotence=True, acks="all")
    await producer.start()
    try:
        now = int(time.time() * 1000)
        for n in range(alarms):
            record = transition(n, now)
            await producer.send(names[topics.ALARM_TRANSITIONS], orjson.dumps(record), key=record["enterprise"].encode())
            if n % 2 == 0:
                action = {"v": 1, "action_id": uuid.uuid4().hex, "action": "ack", "alarm": record["id"],
                          "enterprise": record["enterprise"], "by": "duty1", "ts": now, "comment": "已通知企业核查"}
                await producer.send(names[topics.ALARM_ACTIONS], orjson.dumps(action), key=record["enterprise"].encode())
        await producer.flush()
    finally:
        await producer.stop()


async def write_readings(settings: Settings, readings: int, points: int) -> None:
    """The database as the recorder makes it (policies, continuous queries), then the readings straight into
    the raw policy: the recorder's writer would also aggregate these days-old readings as late ones, which is
    its cost, not the backup's."""
    writer = InfluxWriter(settings)
    try:
        assert await writer.ensure_database(), "InfluxDB did not take the database"
    finally:
        await writer.close()
    now = int(time.time() * 1000) // 60_000 * 60_000
    url = f"{settings.influx_url}/write?db={settings.influx_db}&rp={RAW_POLICY}&precision=ms"
    async with aiohttp.ClientSession(headers=settings.influx_headers) as session:
        for start in range(0, readings, WRITE_AT_ONCE):
            body = "\n".join(f"reading,enterprise=E{n % 5},point=P{n % points},site=S1,type=pressure "
                              f"value={n % 997 / 10} {now - (n // points) * 60_000}"
                              for n in range(start, min(readings, start + WRITE_AT_ONCE)))
            async with session.post(url, data=body.encode()) as response:
                assert response.status == 204, await response.text()


def timed(verb: str, run) -> tuple[float, dict[str, float]]:  # type: ignore[no-untyped-def]
    """(total seconds, seconds per step) of ``run(say)``, the steps from its progress lines."""
    steps: dict[str, float] = {}
    started = last = time.monotonic()
    current = None

    def say(line: str) -> None:
        nonlocal last, current
        print(line, flush=True)
        if line.startswith(f"[{verb} ") and "/" in line.split("]")[0]:
            step = line.split("]")[0].split()[1]
            if step != current:
                if current is not None:
                    steps[current] = time.monotonic() - last
                current, last = step, time.monotonic()

    run(say)
    if current is not None:
        steps[current] = time.monotonic() - last
    return time.monotonic() - started, steps


async def delete_topics(bootstrap: str, marker: str) -> None:
    admin = AIOKafkaAdminClient(bootstrap_servers=bootstrap)
    await admin.start()
    try:
        names = [t for t in await admin.list_topics() if marker in t]
        if names:
            await admin.delete_topics(names)
    finally:
        await admin.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--alarms", type=int, default=200_000)
    parser.add_argument("--readings", type=int, default=2_000_000)
    parser.add_argument("--points", type=int, default=60, help="one reading a minute each: readings / points minutes "
                        "back, within the raw retention (90 days)")
    args = parser.parse_args()
    base = get_settings()
    tag = uuid.uuid4().hex[:8]
    root = Path(tempfile.mkdtemp(prefix="hazmon-bench-backup-"))
    source = base.model_copy(update={"home": root / "source", "registry_dir": root / "registry", "secrets_file": None,
                                     "cache_dir": base.cache_path, "influx_db": f"bench_backup_{tag}"})
    target = source.model_copy(update={"home": root / "target", "registry_dir": root / "restored-registry",
                                       "influx_db": f"bench_restored_{tag}"})
    suffix, restored_suffix = f".bench-backup-{tag}", f".bench-backup-{tag}r"
    shutil.copytree(PACKAGE_DIR / "sample_registry", source.registry_dir)
    load_secrets(source.secrets_path, ["91433127MA4CHEM001"])
    try:
        asyncio.run(write_alarm_record(source, suffix, args.alarms))
        asyncio.run(write_readings(source, args.readings, args.points))
        backup_s, backup_steps = timed("backup", lambda say: backup(source.model_copy(update={"kafka_topic_suffix": suffix}),
                                                                       root / "b", say=say))
        size = sum(p.stat().st_size for p in (root / "b").rglob("*") if p.is_file())
        restore_s, restore_steps = timed("restore", lambda say: restore(
            target.model_copy(update={"kafka_topic_suffix": restored_suffix}), root / "b", say=say))
    finally:
        asyncio.run(delete_topics(base.kafka_bootstrap, f".bench-backup-{tag}"))
        for database in (source.influx_db, target.influx_db):
            query(base, f'DROP DATABASE "{database}"')
        shutil.rmtree(root, ignore_errors=True)
    print(orjson.dumps({"alarms": args.alarms, "actions": (args.alarms + 1) // 2, "readings": args.readings,
                        "backup_bytes": size, "backup_s": round(backup_s, 1), "restore_s": round(restore_s, 1),
                        "backup_steps_s": {k: round(v, 1) for k, v in backup_steps.items()},
                        "restore_steps_s": {k: round(v, 1) for k, v in restore_steps.items()}}).decode())


if __name__ == "__main__":
    main()
