"""The alerting process refuses to start on every interface without ``alerting_public_url`` (links officers can open)."""

from __future__ import annotations

import pytest

from hazmon.settings import Settings

from alerting.process import check_public_url, serve


@pytest.mark.parametrize("host", ["0.0.0.0", "::"])
async def test_all_interfaces_without_public_url_is_refused_at_start(host: str, tmp_path) -> None:
    settings = Settings(home=tmp_path, api_host=host, alerting_public_url=None)
    with pytest.raises(SystemExit) as refused:
        await serve(settings)          # refused before it loads anything or connects anywhere
    assert "alerting_public_url" in str(refused.value) and "HAZMON_ALERTING_PUBLIC_URL" in str(refused.value)


def test_public_url_or_a_local_bind_is_accepted(tmp_path) -> None:
    check_public_url(Settings(home=tmp_path, api_host="0.0.0.0", alerting_public_url="https://alarms.example.gov.cn"))
    check_public_url(Settings(home=tmp_path, api_host="127.0.0.1", alerting_public_url=None))
