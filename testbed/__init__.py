"""What the tests and the benchmarks run the platform with: isolated pipelines (``pipeline``), private
servers and fault injection (``faults``: a Kafka cluster, a Mosquitto, a TCP proxy, a device feed), the
shared broker's topics (``kafka_admin``), an upper platform (``uplink``), alarm records (``alerting``,
``alarm_history``), the rule engine judged on a field county (``false_alarms``) and a headless browser
(``browser``).

Both ``tests/`` and ``bench/`` import it; it imports neither, no stage or ``hazmon`` imports it, and it is
not shipped in the Docker image (tests/foundation/test_import_boundaries.py)."""
