"""The §11 messages the county sends up, and the down actions it takes in (data standard §11, docs/uplink.md).

Pure functions: what goes up is built from the Kafka records, what comes down becomes a record of the
alarm-actions topic (``wire.AlarmAction``, as the API publishes it), attributed to the upper officer as
``prefecture/<name>``.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

import orjson

from hazmon import wire
from hazmon.registry import Registry

UPPER_PREFIX = "prefecture/"   # who acted, on the county's record: the upper officer, named as the upper platform names them
NAME = re.compile(r"^[^\x00-\x1f/]{1,64}$")
COMMENT_MAX = 1000


class DownRefused(ValueError):
    """A down message the county does not apply; the text says why (logged, never answered)."""


def alarm_message(county_id: str, change: dict) -> bytes:
    """§11 ``up/{county}/alarm``: the alarm as the API gives it, plus ``county``, ``version``, the change and its time."""
    body = dict(change["alarm"])
    body.update({"v": wire.WIRE_VERSION, "county": county_id, "version": change["version"],
                 "change": change["change"], "changed_at": change["ts"], "changed_by": change.get("by")})
    return orjson.dumps(body)


def registry_message(county_id: str, registry: Registry, now_ms: int) -> bytes:
    """§11 ``up/{county}/registry``: enterprises, their sites and points, by id, name, kind, type and place."""
    enterprises = []
    for enterprise_id, doc in sorted(registry.enterprises.items()):
        info = doc.enterprise
        enterprises.append({
            "id": enterprise_id, "name": info.name, "town": info.town, "lat": info.lat, "lon": info.lon,
            "sites": [{"id": site.id, "name": site.name, "kind": str(site.kind)} for site in doc.sites],
            "points": [{"id": point.id, "site": point.site, "device": point.device, "type": str(point.type),
                        "name": point.name} for point in doc.points]})
    return orjson.dumps({"v": wire.WIRE_VERSION, "county": county_id, "ts": now_ms, "fingerprint": registry.fingerprint,
                         "enterprises": enterprises})


def heartbeat_message(county_id: str, now_ms: int, enterprises: int, points: int, backlog: int) -> bytes:
    """§11 ``up/{county}/heartbeat``: what the county watches, and how many alarm changes wait to go up."""
    return orjson.dumps({"v": wire.WIRE_VERSION, "county": county_id, "ts": now_ms, "enterprises": enterprises,
                         "points": points, "backlog": backlog})


def down_action(payload: bytes, now_ms: int, known: Mapping[str, tuple[str, str]]) -> wire.AlarmAction:
    """The alarm action an upper ``down/{county}/action`` message asks for: 签收 (``"action": "ack"``) of an
    alarm escalated to the upper platform, with the upper officer's comment.

    The message: ``{"v": 1, "id": "<upper action id>", "alarm": "<alarm id>", "action": "ack", "by": "<officer>",
    "comment": "…", "ts": ms, "enterprise": "<id>"}``; ``known`` maps the alarms forwarded since the uplink started
    to their (enterprise, escalated_to): ``enterprise`` is needed only for another alarm; ``ts`` defaults to now."""
    try:
        body = orjson.loads(payload)
    except orjson.JSONDecodeError as exc:
        raise DownRefused(f"not JSON: {exc}") from None
    if not isinstance(body, dict) or body.get("v") != 1:
        raise DownRefused("not a version 1 object")
    if body.get("action") != "ack":
        raise DownRefused(f"action {body.get('action')!r}: only ack (签收) is applied to the county's record")
    alarm, by, comment, upper_id = body.get("alarm"), body.get("by"), body.get("comment", ""), body.get("id")
    if not isinstance(alarm, str) or not isinstance(upper_id, str) or not upper_id:
        raise DownRefused("alarm and id must be strings")
    if not isinstance(by, str) or not NAME.match(by):
        raise DownRefused("by must name the upper officer (1-64 characters, no '/')")
    if not isinstance(comment, str) or len(comment) > COMMENT_MAX:
        raise DownRefused(f"comment must be text of at most {COMMENT_MAX} characters")
    known_enterprise, escalated_to = known.get(alarm, (None, None))
    if escalated_to is not None and escalated_to != "prefecture":
        raise DownRefused(f"alarm {alarm} is escalated to {escalated_to}, not to the upper platform")
    enterprise = known_enterprise or body.get("enterprise")
    if not isinstance(enterprise, str) or not enterprise:
        raise DownRefused(f"alarm {alarm} unknown to the uplink and no enterprise given")
    ts = body.get("ts")
    return {"v": wire.WIRE_VERSION, "action_id": f"upper-{upper_id}", "action": "ack", "enterprise": enterprise,
            "ts": ts if isinstance(ts, int) and not isinstance(ts, bool) else now_ms, "by": UPPER_PREFIX + by,
            "alarm": alarm, "comment": comment}
