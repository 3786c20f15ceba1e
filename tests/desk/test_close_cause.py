"""处置反馈's cause (issue 17): one of five codes in the API, the officer's words on every page, and a free-text
cause of a close recorded before the codes shown as written."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from alerting.api.bodies import CloseBody
from alerting.model import CLOSE_CAUSES
from alerting.text import Texts


def test_the_five_causes_in_words() -> None:
    assert Texts("zh").causes() == [("real_hazard", "真实险情"), ("device_fault", "设备故障"), ("false_alarm", "误报"),
                                    ("test", "测试"), ("other", "其他")]
    assert [code for code, _ in Texts("en").causes()] == list(CLOSE_CAUSES)
    assert Texts("en").cause("false_alarm") == "false alarm"


def test_a_free_text_cause_of_an_older_close_is_shown_as_written() -> None:
    assert Texts("zh").cause("进料阀内漏") == "进料阀内漏"


def test_the_api_takes_a_code_or_no_cause_and_refuses_free_text() -> None:
    assert CloseBody.model_validate({"note": "已处置", "cause": "false_alarm"}).cause == "false_alarm"
    assert CloseBody.model_validate({"note": "已处置"}).cause is None
    with pytest.raises(ValidationError) as refused:
        CloseBody.model_validate({"note": "已处置", "cause": "阀门内漏"})
    assert refused.value.errors()[0]["loc"] == ("cause",)
