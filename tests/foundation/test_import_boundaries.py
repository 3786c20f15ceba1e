"""Who may import whom (docs/architecture.md): ``hazmon`` holds the contracts every process shares and
imports no stage; a stage imports ``hazmon`` and itself, never another stage nor ``hzctl`` (the
command line, demo, supervisor and local stack), which sits above them all. The harness ``testbed``
serves ``tests`` and ``bench``, which never import each other; nothing the platform runs imports any
of the three."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STAGES = ("ingest", "stream_rules", "alerting", "recorder", "uplink", "prefecture", "device_sim", "dashboards")
PROJECT = ("hazmon", "hzctl", "tests", "bench", "testbed", *STAGES)
HARNESS = {"tests", "bench", "testbed"}


def imported_packages(path: Path) -> dict[str, int]:
    """The project packages ``path`` imports anywhere (top level or inside a function), with a line of each."""
    found: dict[str, int] = {}
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"), str(path))):
        if isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names = [node.module]
        else:
            continue
        for name in names:
            top = name.split(".")[0]
            if top in PROJECT:
                found.setdefault(top, node.lineno)
    return found


def violations(package: str, allowed: set[str]) -> list[str]:
    return [f"{path.relative_to(ROOT)}:{line} imports {top}"
            for path in sorted((ROOT / package).rglob("*.py"))
            for top, line in imported_packages(path).items() if top not in allowed]


@pytest.mark.parametrize("stage", STAGES)
def test_a_stage_imports_only_hazmon_and_itself(stage: str) -> None:
    assert violations(stage, {"hazmon", stage}) == []


def test_hazmon_imports_no_stage_and_not_the_command_line() -> None:
    assert violations("hazmon", {"hazmon"}) == []


def test_the_command_line_imports_no_test_bench_or_testbed() -> None:
    assert violations("hzctl", set(PROJECT) - HARNESS) == []


def test_a_bench_imports_no_test() -> None:
    assert violations("bench", set(PROJECT) - {"tests"}) == []


def test_a_test_imports_no_bench() -> None:
    assert violations("tests", set(PROJECT) - {"bench"}) == []


def test_the_testbed_imports_neither_tests_nor_benches() -> None:
    assert violations("testbed", set(PROJECT) - {"tests", "bench"}) == []


def test_the_check_sees_an_import_inside_a_function(tmp_path: Path) -> None:
    module = tmp_path / "m.py"
    module.write_text("def f():\n    from device_sim.county import write_county\n    import hzctl.stack\n")
    assert imported_packages(module) == {"device_sim": 2, "hzctl": 3}
