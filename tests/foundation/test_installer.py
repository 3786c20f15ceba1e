"""``hazmon stack up`` is never silent for minutes: a long install step says it still runs (issue #16)."""

from __future__ import annotations

import pytest

from hzctl.stack.installer import InstallError, run


def test_a_long_step_reports_that_it_still_runs_and_what_it_last_printed(capsys: pytest.CaptureFixture[str]) -> None:
    run(["sh", "-c", "echo 'Downloading kafka-clients.jar'; sleep 1.2; echo done"], "fetching Kafka", progress_s=0.3)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("[stack] fetching Kafka: sh -c")
    still = [line for line in lines if "still running" in line]
    assert len(still) >= 2
    assert "Downloading kafka-clients.jar" in still[0]


def test_a_failed_step_names_itself_and_shows_its_output() -> None:
    with pytest.raises(InstallError, match=r"(?s)building influxd failed \(exit 3\):.*no module"):
        run(["sh", "-c", "echo 'no module'; exit 3"], "building influxd", progress_s=5)


def test_control_characters_of_a_step_do_not_reach_the_terminal(capsys: pytest.CaptureFixture[str]) -> None:
    run(["sh", "-c", r"printf 'fetch\033[2Jing\n'; sleep 0.5"], "apt-get update", progress_s=0.2)
    assert "\x1b" not in capsys.readouterr().out
