"""Structured logging: one line per event, ``key=value`` fields after the message.

Use ``log.info("reading refused", extra={"enterprise": e, "point": p, "reason": r})``; the fields
given in ``extra`` are printed after the message, so logs say what happened to which point.
Anything that came from a device or a record goes through ``printable`` first: device data must not
forge or break log lines.
"""

from __future__ import annotations

import logging
import re
import sys

_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]")
_STANDARD = set(vars(logging.LogRecord("", 0, "", 0, "", None, None))) | {"message", "asctime", "taskName"}


def printable(value: object, limit: int | None = None) -> str:
    """``value`` for a log line or a Kafka header: control characters (newlines too) escaped, so device data
    cannot forge or break lines; other text, Chinese included, as it is; cut to ``limit`` characters ("…"
    last) when given. Pass ``repr(value)`` where the type matters (``'1'`` is not ``1``)."""
    text = _CONTROL.sub(lambda m: m.group().encode("unicode_escape").decode(), str(value))
    return text if limit is None or len(text) <= limit else text[:limit - 1] + "…"


class KeyValueFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        # milliseconds and the process id: several processes (two rules workers, a restarted one) share a log
        when = f"{self.formatTime(record, '%Y-%m-%dT%H:%M:%S')}.{int(record.msecs):03d}"
        base = f"{when} {record.levelname:<5} [{record.process}] {record.name}: {record.getMessage()}"
        fields = " ".join(f"{k}={v!r}" if isinstance(v, str) and " " in v else f"{k}={v}"
                          for k, v in vars(record).items() if k not in _STANDARD)
        text = f"{base} {fields}" if fields else base
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


def configure(level: str = "INFO") -> None:
    """Send structured log lines to stderr (idempotent)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(KeyValueFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


def dict_config(level: str = "INFO", libraries_level: str = "WARNING",
                libraries: tuple[str, ...] = ("faust", "mode", "aiokafka")) -> dict:
    """The same structured lines as ``configure``, as a ``logging.config.dictConfig`` for frameworks that
    set up logging themselves (Faust's worker does): ``libraries`` log at ``libraries_level`` only."""
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"key_value": {"()": KeyValueFormatter}},
        "handlers": {"stderr": {"class": "logging.StreamHandler", "formatter": "key_value", "stream": "ext://sys.stderr"}},
        "loggers": {name: {"level": libraries_level} for name in libraries},
        "root": {"level": level, "handlers": ["stderr"]},
    }
