"""The county's uplink: alarm changes from Kafka to the upper platform's broker, and the upper
platform's actions back onto the county's alarm record (data standard §11, docs/uplink.md)."""
