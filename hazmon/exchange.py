"""The upward exchange's MQTT topics (data standard §11), shared by the county's uplink and the upper
platform's broker accounts: a county publishes under ``hazmon/v1/up/{county_id}/…`` and reads
``hazmon/v1/down/{county_id}/…``, nothing else (docs/uplink.md)."""

from __future__ import annotations

from typing import Literal, TypedDict

UpKind = Literal["alarm", "risk", "registry", "readings", "heartbeat"]


def up_topic(county_id: str, kind: UpKind) -> str:
    return f"hazmon/v1/up/{county_id}/{kind}"


def down_action_topic(county_id: str) -> str:
    return f"hazmon/v1/down/{county_id}/action"


def up_filter(county_id: str) -> str:
    """Everything the county may publish."""
    return f"hazmon/v1/up/{county_id}/#"


def down_filter(county_id: str) -> str:
    """Everything the county may read."""
    return f"hazmon/v1/down/{county_id}/#"


UP_ALL = "hazmon/v1/up/+/+"   # every county's every kind: the upper platform's subscription
UP_KINDS: frozenset[str] = frozenset(("alarm", "risk", "registry", "readings", "heartbeat"))


def parse_up_topic(topic: str) -> tuple[str, str] | None:
    """``(county_id, kind)`` of an ``up`` topic; None for anything else."""
    parts = topic.split("/")
    if len(parts) != 5 or parts[:3] != ["hazmon", "v1", "up"] or not parts[3] or parts[4] not in UP_KINDS:
        return None
    return parts[3], parts[4]


# §11 ``up/{county}/risk``: the ``ts`` of an enterprise's colour when the county has written none yet (blue):
# no time of its own, so it is no point of a time series; the upper side keeps the colour a county sent last
RISK_NO_TIME = 0


class DownAction(TypedDict):
    """§11 ``down/{county}/action``: an upper officer's 签收 (``ack``) with a comment on an alarm escalated to the
    upper platform; ``id`` is the upper platform's action id, ``enterprise`` the alarm's (as the county has it)."""

    v: int
    id: str
    alarm: str
    action: str
    by: str
    comment: str
    ts: int
    enterprise: str
