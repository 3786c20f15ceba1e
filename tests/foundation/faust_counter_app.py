"""A minimal faust-streaming app for the foundation test: counts records per key in a table
with a changelog and writes each new count to an output topic.

Run as ``python faust_counter_app.py worker``; the topic names come from the environment of the
test that starts it (HAZMON_TEST_APP, HAZMON_TEST_IN, HAZMON_TEST_OUT, HAZMON_TEST_DATADIR).
"""

from __future__ import annotations

import os

import faust

from hazmon.settings import get_settings

APP_ID = os.environ["HAZMON_TEST_APP"]
app = faust.App(
    APP_ID,
    broker=f"kafka://{os.environ['HAZMON_KAFKA_BOOTSTRAP']}",
    store="memory://",
    topic_partitions=get_settings().kafka_partitions,  # as the broker auto-creates the source topic
    broker_session_timeout=6,
    broker_heartbeat_interval=2,
    broker_commit_interval=1.0,
    web_enabled=False,
    datadir=os.environ["HAZMON_TEST_DATADIR"],
    processing_guarantee="at_least_once",
)
source = app.topic(os.environ["HAZMON_TEST_IN"], key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")
sink = app.topic(os.environ["HAZMON_TEST_OUT"], key_type=bytes, value_type=bytes, value_serializer="raw", key_serializer="raw")
counts = app.Table("counts", default=int, key_type=str, value_type=int)


@app.agent(source)
async def count(stream: faust.StreamT) -> None:
    async for key, _ in stream.items():
        name = key.decode()
        counts[name] += 1
        await sink.send(key=key, value=str(counts[name]).encode())


if __name__ == "__main__":
    app.main()
