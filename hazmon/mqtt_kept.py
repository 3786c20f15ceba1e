"""Shared subscriptions that outlive a Mosquitto restart: the record a session keeps of each.

Mosquitto 2.0 (2.0.11 here; 2.0.21 of Debian's backports alike) writes a persistent session, its
queue and its plain subscriptions to ``mosquitto.db`` and restores them at start, but never its
shared ones (``$share/<group>/<filter>``): ``persist__subs_save`` walks the plain subscribers of each
topic only. Ingest reads the devices' topics through shared subscriptions, so after a restart its
sessions came back without them, and what devices published until ingest had subscribed again was
acknowledged to them and dropped (no matching subscriber).

So a session that needs a shared subscription back subscribes to its record as well: the same
text under ``RECORD_PREFIX``, a plain subscription (which Mosquitto keeps, with the session, and
forgets with it) to topics that nobody publishes to. The broker's start
(``hzctl.stack.mosquitto_start``) adds every recorded shared subscription back to the file before
Mosquitto reads it.
"""

from __future__ import annotations

RECORD_PREFIX = "hazmon/kept-share/"


def record_of(shared_filter: str) -> str:
    """The plain subscription that keeps ``shared_filter`` (``$share/...``) across restarts."""
    if not shared_filter.startswith("$share/"):
        raise ValueError(f"not a shared subscription: {shared_filter!r}")
    return RECORD_PREFIX + shared_filter


def recorded(filter_: str) -> str | None:
    """The shared subscription that ``filter_`` is the record of, if it is one."""
    if filter_.startswith(RECORD_PREFIX + "$share/"):
        return filter_[len(RECORD_PREFIX):]
    return None
