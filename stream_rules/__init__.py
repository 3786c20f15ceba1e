"""Stream rules (issue 5): readings, events and device status in, alarm transitions out.

``engine`` is the pure, synchronous core (no I/O); ``worker`` is the thin faust-streaming layer
around it. See docs/stream_rules.md for what each transition means and how time is judged.
"""
