"""Container healthcheck: exit 0 when this network namespace has an established TCP connection to
every port given on the command line (``connected.py 1883 9092``: ingest reaches the broker and
Kafka), else 1 naming the missing ports. Reads /proc/net/tcp and tcp6; no hazmon import, so it stays
cheap when run every few seconds."""

from __future__ import annotations

import sys
from pathlib import Path

ESTABLISHED = "01"


def remote_ports(proc_net: Path = Path("/proc/net")) -> set[int]:
    """The remote ports of every established TCP connection in /proc/net/tcp and tcp6."""
    ports: set[int] = set()
    for name in ("tcp", "tcp6"):
        table = proc_net / name
        if not table.exists():
            continue
        for line in table.read_text().splitlines()[1:]:
            fields = line.split()
            if len(fields) > 3 and fields[3] == ESTABLISHED:
                ports.add(int(fields[2].rsplit(":", 1)[1], 16))
    return ports


def main(argv: list[str]) -> int:
    missing = {int(port) for port in argv} - remote_ports()
    if missing:
        print(f"no established connection to port(s) {sorted(missing)}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
