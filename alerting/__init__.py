"""Alerting: alarm lifecycle, escalation, notifications, risk colour and the duty API; its InfluxDB points
go to the recorder through Kafka (``alerting.series_topic``), it writes no InfluxDB.

Data standard §8 (lifecycle, escalation, risk colour) and §9 (measurements, HTTP API); see
docs/alerting.md for the state model and the records on Kafka.
"""
