"""Rules per device and per controller event: offline (断线) from silence or status, and the fire
alarm controller's events (§4) — fire, fault, reset/normal and the events that are only recorded.
"""

from __future__ import annotations

import numpy as np

from hazmon.wire import DeviceStatus, Event
from stream_rules.alarms import FIRE_SEVERITY, AlarmBook, Change, Subject
from stream_rules.catalog import OFFLINE_PERIODS, Catalog
from stream_rules.point_rules import FAULT_SEVERITY
from stream_rules.state import EnterpriseState

OFFLINE_SEVERITY = 1
RECORDED_EVENTS = ("disabled", "supervisory", "start", "feedback")


def apply_status(state: EnterpriseState, status: DeviceStatus) -> None:
    if status["online"]:
        state.status_offline.pop(status["device"], None)
    else:
        state.status_offline[status["device"]] = int(status["ts"])


def judge_offline(catalog: Catalog, state: EnterpriseState, book: AlarmBook, clock: float, first_seen: float) -> None:
    """Raise or clear each device's offline alarm as of reading time ``clock`` (the watermark);
    a raise carries the time silence began (or the offline status's time) as its reading time."""
    due = np.maximum(state.last_ts, first_seen) + OFFLINE_PERIODS * catalog.period_ms
    silent = catalog.reports & (clock > due)
    for device, members in catalog.devices.items():
        key = f"offline|{device}"
        late = [due[i] for i in members if silent[i]]
        status_ts = state.status_offline.get(device)
        entry = catalog.rules[members[0]].entry
        subject = Subject(entry.site.id, device, "", f"{entry.site.name}设备[{device}]")
        if late or status_ts is not None:
            started = int(min(late)) if late else status_ts
            assert started is not None
            reason = "silence" if late else "status"
            extra: dict[str, float | str | None] = {"silent_points": len(late)}
            book.apply(Change("offline", key, subject, None, OFFLINE_SEVERITY, started, None, None, reason, extra),
                       started, "raised")
        elif book.is_open(key):
            book.clear(Change("offline", key, subject, None, OFFLINE_SEVERITY, int(clock)))


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
