"""交接班 (issue 17): the outgoing officer hands over the open items with a note, another officer signs."""

from __future__ import annotations

from pathlib import Path

import pytest

from alerting.desk.handover import HandoverRefused, Handovers

NOW = 1_764_376_800_000


def test_a_handover_waits_for_another_officer(tmp_path: Path) -> None:
    store = Handovers(tmp_path / "desk.sqlite3")
    with pytest.raises(HandoverRefused, match="1–4000"):
        store.give("王值班 (wang)", "   ", [], NOW)
    given = store.give("王值班 (wang)", "1号储罐液位报警已通知企业，待反馈；医院火警为误报", ["a1", "f1"], NOW)
    assert store.pending() == given and given.open_alarms == ["a1", "f1"]
    with pytest.raises(HandoverRefused, match="not signed yet"):
        store.give("王值班 (wang)", "again", [], NOW)
    with pytest.raises(HandoverRefused, match="cannot sign their own"):
        store.take(given.id, "王值班 (wang)", NOW + 1)
    taken = store.take(given.id, "李值班 (li)", NOW + 60_000)
    assert (taken.taken_by, store.pending()) == ("李值班 (li)", None)
    assert store.between(NOW, NOW + 1) == [taken] and taken.taken_at == NOW + 60_000
    with pytest.raises(HandoverRefused, match="no such handover"):
        store.take(given.id, "赵值班 (zhao)", NOW + 2)
    store.close()
