"""MQTT edge adapter: enterprises' telemetry, events and status (data standard §2–§6) into Kafka.

``parser`` is the pure rule book; ``adapter`` moves messages from the broker to Kafka and
acknowledges each MQTT message only after Kafka acknowledged its records.
"""
