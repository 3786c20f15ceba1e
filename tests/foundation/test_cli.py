"""The command line as a user meets it: version, settings, scenarios by name, and mistakes answered on
stderr in a line or two, never a traceback (issue 16)."""

from __future__ import annotations

import asyncio
import io
from importlib.metadata import version

import pytest

from device_sim.progress import show_progress
from hzctl.cli import main
from hazmon.settings import get_settings


@pytest.fixture(autouse=True)
def fresh_settings() -> None:
    """Each call of ``main`` reads the environment as a new process would."""
    get_settings.cache_clear()
    yield
    get_settings.cache_clear()


def test_version(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--version"])
    assert ended.value.code == 0
    assert capsys.readouterr().out.strip() == f"hazmon {version('hazmon')}"


def test_an_unknown_log_level_is_refused_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as ended:
        main(["--log-level", "foo", "config", "show"])
    assert ended.value.code == 2
    err = capsys.readouterr().err
    assert "--log-level" in err and "foo" in err.lower() and "Traceback" not in err


def test_a_bad_setting_names_its_variable(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HAZMON_KAFKA_PARTITIONS", "many")
    assert main(["config", "show"]) == 2
    err = capsys.readouterr().err
    assert "HAZMON_KAFKA_PARTITIONS" in err and "many" in err and "Traceback" not in err


def test_config_show_says_where_each_value_comes_from_and_hides_secrets(
        monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("HAZMON_KAFKA_PARTITIONS", "12")
    monkeypatch.setenv("HAZMON_INFLUX_PASSWORD", "SECabcdef0123")
    assert main(["config", "show"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert "HAZMON_KAFKA_PARTITIONS=12  # environment" in lines
    assert any(line.startswith("HAZMON_MQTT_PORT=1883") and line.endswith("# default") for line in lines)
    assert not any("SECabcdef0123" in line for line in lines)


def test_scenarios_are_listed_and_run_by_name(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["sim", "scenarios"]) == 0
    listed = capsys.readouterr().out
    assert "tank_overfill" in listed and "fire_and_pump" in listed
    assert main(["sim", "run", "--scenario", "no_such_scenario"]) == 2
    err = capsys.readouterr().err
    assert "no_such_scenario" in err and "tank_overfill" in err and "Traceback" not in err


def test_a_registry_that_does_not_validate_is_an_error_not_a_traceback(
        tmp_path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "broken.yaml").write_text("enterprise: [unclosed\n", encoding="utf-8")
    monkeypatch.setenv("HAZMON_REGISTRY_DIR", str(tmp_path))
    assert main(["sim", "run", "--scenario", "tank_overfill"]) == 2
    err = capsys.readouterr().err
    assert "broken.yaml" in err and "Traceback" not in err


async def test_progress_written_to_a_file_is_one_line_per_update() -> None:
    """A ``\\r`` progress line in a log file is one giant line; off a terminal each update is a line."""
    out = io.StringIO()
    task = asyncio.create_task(show_progress("zh", "run", lambda: 5.0, 10.0, [], 0.01, out))
    await asyncio.sleep(0.05)
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    text = out.getvalue()
    assert "\r" not in text and text.count("\n") >= 2
