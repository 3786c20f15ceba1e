"""Servers of a test's or bench's own that can be faulted at will (a three-broker Kafka cluster, a Mosquitto,
a TCP proxy in front of a shared server), the device feed that counts what was lost, and topic progress."""
