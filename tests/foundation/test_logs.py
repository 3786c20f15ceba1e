"""Structured log lines: when to the millisecond, level, process, logger, message, then the fields."""

from __future__ import annotations

import logging
import os
import re

from hazmon.logs import KeyValueFormatter


def test_a_line_names_its_process_and_the_point_it_is_about() -> None:
    record = logging.LogRecord("ingest.adapter", logging.WARNING, __file__, 1, "reading refused", None, None)
    record.enterprise, record.point, record.reason = "91433127MA4CHEM001", "TK01_LT", "out of range"
    line = KeyValueFormatter().format(record)
    pattern = (rf"^\d{{4}}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{{3}} WARNING \[{os.getpid()}\] ingest.adapter: reading refused "
               r"enterprise=91433127MA4CHEM001 point=TK01_LT reason='out of range'$")
    assert re.match(pattern, line), line
