"""The upward exchange's MQTT topics (data standard §11), shared by the county's uplink and the upper
platform's broker accounts: a county publishes under ``hazmon/v1/up/{county_id}/…`` and reads
``hazmon/v1/down/{county_id}/…``, nothing else (docs/uplink.md)."""

from __future__ import annotations

from typing import Literal

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
