"""Rules per device and per controller event: offline (设备离线) from silence or status, a silent
channel's fault, and the fire alarm controller's events (§4) — fire, fault, reset/normal and the
events that are only recorded.
"""

from __future__ import annotations

import numpy as np

from hazmon.wire import DeviceStatus, Event, TsSource
from stream_rules.alarms import FIRE_SEVERITY, AlarmBook, Change
from stream_rules.catalog import OFFLINE_PERIODS, Catalog
from stream_rules.point_rules import FAULT_SEVERITY
from stream_rules.state import EnterpriseState

OFFLINE_SEVERITY = 1
RECORDED_EVENTS = ("disabled", "supervisory", "start", "feedback")


def apply_status(catalog: Catalog, state: EnterpriseState, status: DeviceStatus) -> None:
    """§8: an offline status (or the MQTT will) opens the device's offline alarm until ``online: true``
    arrives or data newer than the status: a status the device stamped is compared with reading times
    on its own clock; a will (stamped by the platform) with the newest reading the device had sent."""
    device = status["device"]
    if status["online"]:
        state.status_offline.pop(device, None)
        return
    members = catalog.reporting.get(device)
    if members is None:
        return
    newest = float(state.last_ts[members].max()) if len(members) else -np.inf
    after = float(status["ts"]) if _device_stamped(status) else newest
    state.status_offline[device] = [after, float(status["ts"])]


def _device_stamped(status: DeviceStatus) -> bool:
    source = status.get("ts_src")
    return status["ts"] != status["recv_ms"] if source is None else source != TsSource.PLATFORM


def clear_status_by_data(state: EnterpriseState, device: str, newest_ts: float) -> None:
    """Readings newer (device time) than an offline status clear it; older ones, a backlog, do not."""
    status = state.status_offline.get(device)
    if status is not None and newest_ts > status[0]:
        del state.status_offline[device]


def judge_silence(catalog: Catalog, state: EnterpriseState, book: AlarmBook, clock: float) -> None:
    """Raise or clear each device's offline alarm, and each silent channel's fault, at platform time ``clock``.

    §8: silence is per device and per point, measured on the platform's receiving clock (``recv_ms``)
    from the device's own last arrival, never from another device's reading times. A device that sent
    nothing for 3 × its shortest period (or whose status is offline) raises one offline alarm; a point
    silent for 3 × its period on a device that still reports is a fault of that point.
    """
    since = state.silence_from
    silence_open = any(key.startswith("silence|") for key in book.open)
    for device, members in catalog.reporting.items():
        if not len(members):
            continue
        key = f"offline|{device}"
        subject = catalog.device_subject(device)
        device_due = max(float(state.last_arrival[members].max()), since) + catalog.device_silence_ms[device]
        status = state.status_offline.get(device)
        if clock > device_due or status is not None:
            started = int(device_due) if clock > device_due else int(status[1])  # type: ignore[index]
            reason = "silence" if clock > device_due else "status"
            book.apply(Change("offline", key, subject, None, OFFLINE_SEVERITY, started, None, None, reason), started, "raised")
            continue
        if book.is_open(key):
            book.clear(Change("offline", key, subject, None, OFFLINE_SEVERITY, int(clock)))
            state.back_since[device] = clock   # its channels are judged from its return
        back = max(since, state.back_since.get(device, -np.inf))
        due = np.maximum(state.last_arrival[members], back) + OFFLINE_PERIODS * catalog.period_ms[members]
        if not silence_open and not (clock > due).any():
            continue                    # no channel silent, none to clear
        for index, point_due in zip(members.tolist(), due.tolist()):
            _judge_channel(catalog, book, index, clock > point_due, int(point_due), clock)


def _judge_channel(catalog: Catalog, book: AlarmBook, index: int, silent: bool, due: int, clock: float) -> None:
    rules = catalog.rules[index]
    key = f"silence|{rules.entry.id}"
    if silent:
        book.apply(Change("fault", key, rules.subject, None, FAULT_SEVERITY, due, None, None, "silence"), due, "raised")
    elif book.is_open(key):
        book.clear(Change("fault", key, rules.subject, None, FAULT_SEVERITY, int(clock), None, None, "silence"))


def apply_event(catalog: Catalog, book: AlarmBook, event: Event) -> bool:
    """Apply one controller event; False when its point is not registered."""
    index = catalog.index.get(event["point"])
    if index is None:
        return False
    rules = catalog.rules[index]
    subject = rules.subject
    ts = int(event["ts"])
    name = event["event"]
    extra: dict[str, float | str | None] = {"event": name, "text": event.get("text", "")}
    if name == "fire":
        book.apply(Change("fire", f"fire|{subject.point}", subject, None, FIRE_SEVERITY, ts, None, None, None, extra), ts)
    elif name == "fault":
        if not book.is_open(f"offline|{subject.device}"):
            book.apply(Change("fault", f"fault|{subject.point}", subject, None, FAULT_SEVERITY, ts, None, None,
                              "device_event", extra), ts, "raised")
    elif name in ("reset", "normal"):
        for key, alarm in list(book.open.items()):
            if alarm.point == subject.point and alarm.rule in ("fire", "fault"):
                book.clear(Change(alarm.rule, key, subject, alarm.level, alarm.severity, ts, None, None, name, extra))
    elif name in RECORDED_EVENTS:
        book.record(Change("fire", f"event|{subject.point}", subject, None, 0, ts, None, None, name, extra))
    return True
