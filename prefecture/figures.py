"""Each county's assessment figures at the prefecture (各县联网率、在线率、签收及时率, issue 19), from what §11
brings the prefecture and nothing else: the county's registry summary, its heartbeats and its alarms at their
highest version. Pure functions; docs/uplink.md defines each figure in words.

- the county platform is **online** when its latest heartbeat is at most ``ONLINE_S`` old;
- a **reporting point** is a registered point that sends readings (fire detectors send events: counted in
  neither figure, as at the county); its device is **offline** while the county has an open 设备离线 alarm
  (rule ``offline``, not cleared nor closed) of that enterprise's device;
- **联网率**: of the registry's enterprises with a reporting point, those with a reporting point on a device
  not offline, while the county platform is online (offline, nothing of it reaches the prefecture: 0);
- **在线率**: of the registry's reporting points, those on a device not offline, while the county is online;
- **签收及时率** of a day (Beijing): of the county's alarms (confirmed, not the platform's own) started that
  day and due — signed, or started at least ``SIGN_WITHIN_MS`` ago — those signed (签收, by the county or
  the prefecture) within ``SIGN_WITHIN_MS`` of their start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hazmon.registry import PointType
from hazmon.wire import PLATFORM_ENTERPRISE

ONLINE_S = 180                  # three heartbeats (every 60 s, §11) missed
SIGN_WITHIN_MS = 5 * 60 * 1000  # 签收 within 5 minutes of the alarm (the county's own figure, alerting.desk)
OPEN_STATES = frozenset({"active", "acknowledged"})


@dataclass(frozen=True, slots=True)
class Rate:
    part: int
    whole: int

    @property
    def value(self) -> float | None:
        return None if self.whole == 0 else self.part / self.whole


@dataclass(frozen=True, slots=True)
class CountyFigures:
    online: bool
    networked: Rate       # 联网率, enterprises
    points_online: Rate   # 在线率, points
    signed_in_time: Rate  # 签收及时率, alarms of the day


def county_online(heartbeat_at: int | None, now_ms: int) -> bool:
    return heartbeat_at is not None and now_ms - heartbeat_at <= ONLINE_S * 1000


def offline_devices(alarms: Iterable[dict]) -> set[tuple[str, str]]:
    """(enterprise, device) of each open 设备离线 alarm."""
    return {(a["enterprise"], a["device"]) for a in alarms if a["rule"] == "offline" and a["state"] in OPEN_STATES}


def connection(registry: dict | None, offline: set[tuple[str, str]], online: bool) -> tuple[Rate, Rate]:
    """(联网率, 在线率) of a county's registry summary."""
    enterprises = enterprises_up = points = points_up = 0
    for enterprise in (registry or {}).get("enterprises", []):
        devices = [p["device"] for p in enterprise["points"] if p["type"] != PointType.FIRE_DETECTOR]
        if not devices:
            continue
        up = sum(online and (enterprise["id"], device) not in offline for device in devices)
        enterprises += 1
        enterprises_up += up > 0
        points += len(devices)
        points_up += up
    return Rate(enterprises_up, enterprises), Rate(points_up, points)


def signed_in_time(alarms: Iterable[dict], day_start_ms: int, day_end_ms: int, now_ms: int) -> Rate:
    """签收及时率 of the alarms started in ``[day_start_ms, day_end_ms)``, as of ``now_ms``."""
    due = timely = 0
    for alarm in alarms:
        started, acked = alarm["started_at"], alarm.get("acked_at")
        if not (alarm.get("confirmed") and day_start_ms <= started < day_end_ms) or alarm["enterprise"] == PLATFORM_ENTERPRISE:
            continue
        if acked is None and now_ms - started < SIGN_WITHIN_MS:
            continue   # not due yet
        due += 1
        timely += acked is not None and acked - started <= SIGN_WITHIN_MS
    return Rate(timely, due)


def county_figures(registry: dict | None, heartbeat_at: int | None, alarms: list[dict], day_start_ms: int,
                   day_end_ms: int, now_ms: int) -> CountyFigures:
    online = county_online(heartbeat_at, now_ms)
    networked, points_online = connection(registry, offline_devices(alarms), online)
    return CountyFigures(online, networked, points_online, signed_in_time(alarms, day_start_ms, day_end_ms, now_ms))
