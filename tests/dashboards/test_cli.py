"""The ``hazmon dashboards`` command line: build writes what generation gives, push talks to Grafana."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

from hzctl.cli import main
from hazmon.registry import Registry
from hazmon.settings import Settings

from dashboards.generate import BOARDS, generated_files
from tests.dashboards.fake_grafana import FakeGrafana


def test_build_writes_the_generated_files(tmp_path: Path, registry: Registry, settings: Settings) -> None:
    assert main(["dashboards", "build", "--language", "en", "--out", str(tmp_path)]) == 0
    for relative, content in generated_files(registry, settings, "en").items():
        assert (tmp_path / relative).read_text(encoding="utf-8") == content


async def test_push_command_installs_into_grafana_and_a_second_run_writes_nothing() -> None:
    grafana = await FakeGrafana().start()
    try:
        for _ in range(2):
            process = await asyncio.create_subprocess_exec(
                sys.executable, "-m", "hzctl.cli", "dashboards", "push", "--grafana-url", grafana.url,
                "--token", "glsa_cli", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
            out, err = await asyncio.wait_for(process.communicate(), timeout=60)
            assert process.returncode == 0, err.decode()
            writes = len(grafana.writes)
    finally:
        await grafana.stop()
    assert f"unchanged {len(BOARDS) + 2}" in out.decode()     # the data source, the folder and every board
    assert writes == len(BOARDS) + 2 and len(grafana.dashboards) == len(BOARDS)
    assert {r.authorization for r in grafana.requests} == {"Bearer glsa_cli"}



async def test_push_refused_by_grafana_reports_it_and_fails() -> None:
    grafana = await FakeGrafana(token="the-right-one").start()
    try:
        process = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "hzctl.cli", "dashboards", "push", "--grafana-url", grafana.url,
            "--token", "a-wrong-one", stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE)
        out, _ = await asyncio.wait_for(process.communicate(), timeout=60)
    finally:
        await grafana.stop()
    assert process.returncode == 1
    assert "refused the push" in out.decode() and not grafana.writes
