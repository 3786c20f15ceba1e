"""Structured log lines: when to the millisecond, level, process, logger, message, then the fields."""

from __future__ import annotations

import logging
import os
import re

from hazmon.logs import KeyValueFormatter, printable


def test_a_line_names_its_process_and_the_point_it_is_about() -> None:
    record = logging.LogRecord("ingest.adapter", logging.WARNING, __file__, 1, "reading refused", None, None)
    record.enterprise, record.point, record.reason = "91433127MA4CHEM001", "TK01_LT", "out of range"
    line = KeyValueFormatter().format(record)
    pattern = (rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}} WARNING \[{os.getpid()}\] ingest.adapter: reading refused "
               r"enterprise=91433127MA4CHEM001 point=TK01_LT reason='out of range'$")
    assert re.match(pattern, line), line


def test_device_text_cannot_break_a_line_and_is_cut_where_asked() -> None:
    forged = "TK01_LT\n2026-12-07T00:00:00.000 ERROR forged\u2028\x1b[31m 液位"
    shown = printable(forged)
    assert "\n" not in shown and "\u2028" not in shown and "\x1b" not in shown
    assert shown == "TK01_LT\\n2026-12-07T00:00:00.000 ERROR forged\\u2028\\x1b[31m 液位"   # Chinese kept as it is
    assert printable(repr(1)) != printable(repr("1"))             # where the type matters, the caller passes repr
    cut = printable("液" * 300, 200)
    assert len(cut) == 200 and cut.endswith("…") and printable("short", 200) == "short"
