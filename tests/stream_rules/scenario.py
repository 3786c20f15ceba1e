"""A generated scenario on the sample registry: wire records in arrival order, with what the
rules must make of them. Used by the worker integration test until device_sim scenarios land."""

from __future__ import annotations

from hazmon.wire import DeviceStatus, Event, ReadingBatch

T0 = 1_764_376_800_000
CHEM, FIRE, MINE = "91433127MA4CHEM001", "12433127MB1FIRE003", "91433127MA4MINE002"
RTU_POINTS = ["TK01_LT", "TK01_TT", "TK01_PT", "TK01_GAS1", "TK01_GAS2", "TK01_H2S"]
FTU_POINTS = ["BLD1_HYD1", "BLD1_SPR1", "BLD1_TANK", "BLD1_RC1", "BLD1_CT1"]


def _level(step: int) -> float:
    """TK01_LT: normal, over high (9.0) at step 10, over high_high (10.5) at 20, back to normal at 40."""
    return 10.8 if 20 <= step < 30 else 9.6 if 10 <= step < 40 else 6.0


def _values(step: int) -> list[float]:
    h2s = 15.0 if step == 5 else 2.0          # one-reading spike: nothing
    gas = 30.0 if 50 <= step < 52 else 3.0    # both gas points over 25 %LEL for two readings: vote at once
    return [_level(step), 30.0, 0.5, gas, gas, h2s]


def readings(steps: int, start: int = 0) -> list[ReadingBatch]:
    records: list[ReadingBatch] = []
    for step in range(start, start + steps):
        ts = T0 + step * 10_000
        records.append({"v": 1, "enterprise": CHEM, "device": "RTU01", "recv_ms": ts, "points": RTU_POINTS,
                        "ts": [ts] * 6, "values": _values(step), "q": [0] * 6, "ts_src": [0] * 6})
        ftu_values = [0.5, 0.3, 3.0 if step < 30 else 1.4, 50.0, 30.0]   # tank under low_low 1.5 from step 30
        records.append({"v": 1, "enterprise": FIRE, "device": "FTU01", "recv_ms": ts, "points": FTU_POINTS,
                        "ts": [ts] * 5, "values": ftu_values, "q": [0] * 5, "ts_src": [0] * 5})
    return records


def fire_events() -> list[Event]:
    base = {"v": 1, "enterprise": FIRE, "device": "FAC1", "point": "FAC1_Z07", "ts_src": 0, "text": "3F 东走廊烟感"}
    return [{**base, "event": "fire", "ts": T0 + 100_000, "recv_ms": T0 + 100_000},   # type: ignore[list-item]
            {**base, "event": "reset", "ts": T0 + 400_000, "recv_ms": T0 + 400_000}]


def status(online: bool, ts: int) -> DeviceStatus:
    return {"v": 1, "enterprise": MINE, "device": "GNSS1", "online": online, "ts": ts, "recv_ms": ts}
