"""Alerting writes no InfluxDB (docs/architecture.md): the recorder owns every write, alerting puts its
lines on ``hazmon.series.v1``. Alerting may read InfluxDB (the desk's readings) by InfluxQL queries;
this fails if a module of alerting takes up an InfluxDB client or its write endpoint again. The
behaviour end to end: tests/recorder/test_series.py."""

from __future__ import annotations

import ast
from pathlib import Path

ALERTING = Path(__file__).resolve().parents[2] / "alerting"
WRITERS = ("influxdb_client", "recorder")       # the client library, and the stage that writes


def writes_influxdb(path: Path) -> list[str]:
    """What in ``path`` could write InfluxDB: an import of a writer, or the ``/write`` endpoint."""
    found = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        names = ([alias.name for alias in node.names] if isinstance(node, ast.Import)
                 else [node.module or ""] if isinstance(node, ast.ImportFrom) else [])
        found += [f"{path.name}:{node.lineno} imports {name}" for name in names if name.split(".")[0] in WRITERS]
        if isinstance(node, ast.Constant) and isinstance(node.value, str) and node.value.rstrip("/").endswith("/write"):
            found.append(f"{path.name}:{node.lineno} names {node.value!r}")
    return found


def test_no_module_of_alerting_writes_influxdb() -> None:
    assert [hit for path in sorted(ALERTING.rglob("*.py")) for hit in writes_influxdb(path)] == []


def test_the_check_sees_a_writer(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text('from influxdb_client import WritePrecision\nURL = f"{base}/write"\nWRITE = "/write"\n')
    assert sorted(writes_influxdb(module)) == ["m.py:1 imports influxdb_client", "m.py:2 names '/write'", "m.py:3 names '/write'"]
