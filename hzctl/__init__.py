"""hzctl: operating hazmon: the ``hazmon`` command line, the demo, the process supervisor and the local
server stack (Mosquitto, Kafka, InfluxDB on this machine).

It sits above every stage (it registers their commands and starts them); no stage and nothing in
``hazmon/`` imports it (``tests/foundation/test_import_boundaries.py``).
"""
