"""seq de-duplication and loss counting per device (data standard §3)."""

from __future__ import annotations

from ingest.sequence import WINDOW, SeqTracker, SeqVerdict

NEW, DUP = SeqVerdict.NEW, SeqVerdict.DUPLICATE


def test_duplicates_and_gaps_per_device() -> None:
    seqs = SeqTracker()
    assert seqs.observe("E", "D1", 1) == (NEW, 0)
    assert seqs.observe("E", "D1", 2) == (NEW, 0)
    assert seqs.observe("E", "D1", 2) == (DUP, 0)
    assert seqs.observe("E", "D1", 6) == (NEW, 3)
    assert seqs.observe("E", "D2", 2) == (NEW, 0)  # another device has its own numbers
    assert seqs.observe("E", "D1", 4) == (NEW, 0)  # late, not a duplicate
    assert seqs.observe("E", "D1", 4) == (DUP, 0)
    assert seqs.observe("E", "D1", 1) == (DUP, 0)


def test_counter_restart_far_below_the_window_starts_over() -> None:
    seqs = SeqTracker()
    assert seqs.observe("E", "D", WINDOW * 3) == (NEW, 0)
    assert seqs.observe("E", "D", 0) == (NEW, 0)
    assert seqs.observe("E", "D", 1) == (NEW, 0)
    assert seqs.observe("E", "D", 0) == (DUP, 0)


def test_window_is_bounded() -> None:
    seqs = SeqTracker()
    for seq in range(WINDOW * 2):
        seqs.observe("E", "D", seq)
    state = seqs.devices[("E", "D")]
    assert len(state.recent) == WINDOW and len(state.order) == WINDOW
