"""Alerting: alarm lifecycle, escalation, notifications, risk colour, InfluxDB writers and the duty API.

Data standard §8 (lifecycle, escalation, risk colour) and §9 (measurements, HTTP API); see
docs/alerting.md for the state model and the records on Kafka.
"""
