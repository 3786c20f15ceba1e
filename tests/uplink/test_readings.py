"""§11 readings: only the chosen point types go up, thinned to the first reading of each point per interval."""

from __future__ import annotations


from aiokafka import AIOKafkaProducer

from hazmon import wire
from hazmon.settings import Settings
from testbed.alerting import CHEM, T0, eventually
from testbed.uplink import COUNTY, TopicOf, UpperBroker, collecting, running_uplink, uplink_settings


def batch(points: list[str], ts: list[int], values: list[float]) -> wire.ReadingBatch:
    return {"v": 1, "enterprise": CHEM, "device": "RTU01", "recv_ms": ts[-1], "points": points, "ts": ts,
            "values": values, "q": [0] * len(ts), "ts_src": [0] * len(ts)}


async def test_chosen_types_thinned_per_interval(kafka: str, settings: Settings, upper: UpperBroker,
                                                 platform_topic: TopicOf, unique: str) -> None:
    suffix, topic = await platform_topic("readings")
    county = uplink_settings(settings, upper, suffix, f"test-uplink-{unique}").model_copy(update={
        "uplink_readings_types": ["tank_level"], "uplink_readings_interval_s": 60.0})
    producer = AIOKafkaProducer(bootstrap_servers=kafka, enable_idempotence=True, acks="all")
    await producer.start()
    try:
        async with collecting(upper, "readings") as collector, running_uplink(county):
            for minute in range(3):   # a level (TK01_LT) and a temperature (TK01_TT) every 20 s for 3 minutes
                ts = [T0 + minute * 60_000 + s * 1000 for s in (0, 0, 20, 20, 40, 40)]
                record = batch(["TK01_LT", "TK01_TT"] * 3, ts, [7.0 + minute, 30.0] * 3)
                await producer.send_and_wait(topic, wire.encode(record), key=CHEM.encode())
            await eventually(lambda: len(collector.messages) >= 3, 30, "three minutes of the level upward")
    finally:
        await producer.stop()
    assert [(m["county"], m["enterprise"], m["device"]) for m in collector.messages] == [(COUNTY, CHEM, "RTU01")] * 3
    assert [m["readings"] for m in collector.messages] == [
        [{"point": "TK01_LT", "value": 7.0 + minute, "ts": T0 + minute * 60_000, "q": "good"}] for minute in range(3)]
