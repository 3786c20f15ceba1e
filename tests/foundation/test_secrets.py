"""Secrets: generated on first use with mode 0600, stable, extended as the registry grows."""

from __future__ import annotations

import stat
from pathlib import Path

from hazmon.secrets import Principal, load_secrets, token_index


def test_generated_private_and_stable(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "secrets.json"
    first = load_secrets(path, ["E1"])
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    again = load_secrets(path, ["E1"])
    assert again == first
    grown = load_secrets(path, ["E1", "E2"])
    assert grown.enterprises["E1"] == first.enterprises["E1"]
    assert grown.enterprises["E2"].mqtt_password != first.enterprises["E1"].mqtt_password
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_token_roles(tmp_path: Path) -> None:
    current = load_secrets(tmp_path / "s.json", ["E1", "E2"])
    index = token_index(current)
    assert index[current.duty_token] == Principal("duty")
    assert index[current.enterprises["E2"].api_token] == Principal("enterprise", "E2")
    assert len(index) == 3
