"""Kafka topic names and how each is keyed.

Every topic is keyed by ``enterprise_id``: one enterprise's records share a partition, so a point's
readings stay in order and everything the rules evaluate together (a voting group, a site's
roll-up, an enterprise's risk colour) is seen by one worker. See docs/architecture.md.
"""

from typing import Final

READINGS: Final = "hazmon.readings.v1"              # wire.ReadingBatch, several readings per record
EVENTS: Final = "hazmon.events.v1"                  # wire.Event (data standard §4)
DEVICE_STATUS: Final = "hazmon.device-status.v1"    # wire.DeviceStatus (§5, and MQTT wills)
DEADLETTER: Final = "hazmon.deadletter.v1"          # original bytes; metadata in headers (§6)
INGEST_STATS: Final = "hazmon.ingest-stats.v1"      # counters per enterprise and reason
ALARM_TRANSITIONS: Final = "hazmon.alarm-transitions.v1"  # wire.AlarmTransition, from stream_rules
ALARM_ACTIONS: Final = "hazmon.alarm-actions.v1"    # officers' actions (ack, close, suppress), from the API

ALL: Final = (READINGS, EVENTS, DEVICE_STATUS, DEADLETTER, INGEST_STATS, ALARM_TRANSITIONS, ALARM_ACTIONS)
