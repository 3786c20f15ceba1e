"""Tables line up in a terminal whether their cells are Chinese or not (issue #16)."""

from __future__ import annotations

from hazmon.console import display_width, table


def test_a_chinese_character_takes_two_columns() -> None:
    assert display_width("设备") == 4
    assert display_width("RTU01") == 5
    assert display_width("e\u0301") == 1   # a combining accent takes none


def test_columns_start_at_the_same_terminal_column_in_every_row() -> None:
    rows = [("设备", "点位", "接收", "说明"), ("RTU01", "TK01_LT", "12", "超量程"), ("储罐区一号RTU", "-", "3", "-")]
    lines = table(rows)
    for column in range(1, 3):
        starts = set()
        for row, line in zip(rows, lines):
            index = line.index(row[column], len("  ".join(row[:column])))
            starts.add(display_width(line[:index]))
        assert len(starts) == 1, (column, lines)
