"""The local server stack: Mosquitto, Apache Kafka (KRaft) and InfluxDB 1.8 on 127.0.0.1.

``hazmon stack up | down | status | logs``. Servers are installed on first use from Debian's
packages, Maven Central and the Go module proxy, cached under the project, and their data, logs
and PID files live under the settings' ``home`` directory.
"""
