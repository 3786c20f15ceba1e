"""Text for a terminal: columns aligned by what a cell shows, not by how many characters it has.

A Chinese character takes two columns of a terminal (Unicode East Asian Width W or F), so
``str.ljust`` misaligns every table with a Chinese heading or name. Every command that prints a
table uses :func:`table`.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Sequence


def display_width(text: str) -> int:
    """Terminal columns ``text`` takes: two for a wide (W, F) character, none for a combining mark."""
    width = 0
    for char in text:
        if unicodedata.combining(char):
            continue
        width += 2 if unicodedata.east_asian_width(char) in ("W", "F") else 1
    return width


def pad(text: str, width: int) -> str:
    """``text`` padded with spaces to ``width`` terminal columns."""
    return text + " " * max(0, width - display_width(text))


def table(rows: Sequence[Sequence[str]], gap: str = "  ") -> list[str]:
    """The rows as lines, every column but the last padded to its widest cell (the last runs free)."""
    columns = max((len(row) for row in rows), default=0)
    widths = [max((display_width(row[i]) for row in rows if i < len(row)), default=0) for i in range(columns - 1)]
    return [gap.join([*(pad(cell, width) for cell, width in zip(row, widths)), *row[len(widths):]]).rstrip()
            for row in rows]
