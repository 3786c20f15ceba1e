"""Which input records the rule engine can read: each is decoded and its wire shape checked before the engine.

The shape is ``hazmon.wire``'s (``ReadingBatch``, ``Event``, ``DeviceStatus``): the checks are built from
those TypedDicts' annotations, so the contract is written once. A field's value must have its annotated
type (``int`` an integer and not a bool, ``float`` any JSON number, ``str``, ``bool``, a ``Literal``'s
values, ``list[...]`` of those); a ``NotRequired`` field may be absent; fields the contract does not name
are let through (a newer producer's additions). A ``ReadingBatch``'s columns (``points``, ``ts``,
``values``, ``q``, ``ts_src``) must be as long as each other: the engine reads them side by side. And a
record must sit in its enterprise's partition (every input topic is keyed by enterprise, docs/architecture.md):
its outputs and state go to that partition's transaction, which another worker may own.

Ranges are not checked here (a quality of 300, a timestamp 584 million years ahead): the engine is the
judge of values, and a record it fails on is set aside by ``stream_rules.runtime``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Literal, NotRequired, get_args, get_origin, get_type_hints

import orjson

from hazmon.wire import DeviceStatus, Event, ReadingBatch

Kind = Literal["readings", "events", "statuses"]
SHAPES: dict[str, type] = {"readings": ReadingBatch, "events": Event, "statuses": DeviceStatus}
COLUMNS = ("points", "ts", "values", "q", "ts_src")   # a ReadingBatch's columns, read side by side
DETAIL_CHARS = 200


class Unfit(Exception):
    """A record the rules cannot evaluate: ``reason`` (``undecodable``, ``malformed``, ``wrong_partition``,
    ``engine_error``) and ``detail``, a sentence safe to log (device data only through ``shown``)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"{reason}: {detail}")
        self.reason = reason
        self.detail = detail


def shown(value: object) -> str:
    """``value`` for a log line or a header: its repr (no raw control characters), at most DETAIL_CHARS long."""
    text = repr(value)
    return text if len(text) <= DETAIL_CHARS else text[:DETAIL_CHARS - 1] + "…"


Check = Callable[[object], bool]


def _is_int(value: object) -> bool:
    return type(value) is int


def _is_number(value: object) -> bool:
    return type(value) is float or type(value) is int


def _check_of(annotation: object) -> Check:
    """A test of one value against a wire annotation (the subset ``hazmon.wire``'s input records use)."""
    if annotation is int:
        return _is_int
    if annotation is float:
        return _is_number
    if annotation is str or annotation is bool:
        wanted = annotation
        return lambda value: type(value) is wanted
    origin = get_origin(annotation)
    if origin is Literal:
        allowed = frozenset(get_args(annotation))
        return lambda value: type(value) is str and value in allowed
    if origin is list:
        (item,) = get_args(annotation)
        each = _check_of(item)
        return lambda value: type(value) is list and all(map(each, value))
    raise TypeError(f"no check for the wire annotation {annotation!r}")


def _fields_of(shape: type) -> list[tuple[str, bool, Check]]:
    """(name, required, check) of every field of the TypedDict ``shape``."""
    fields = []
    for name, annotation in get_type_hints(shape, include_extras=True).items():
        required = get_origin(annotation) is not NotRequired
        if not required:
            (annotation,) = get_args(annotation)
        fields.append((name, required, _check_of(annotation)))
    return fields


FIELDS: dict[str, list[tuple[str, bool, Check]]] = {kind: _fields_of(shape) for kind, shape in SHAPES.items()}


def admit(kind: Kind, value: bytes | None, partition: int, partition_of: Callable[[str], int]) -> dict:
    """The record of ``kind`` in ``value``, read from ``partition``; ``partition_of`` gives an enterprise's
    partition. Raises ``Unfit`` when the engine could not read it."""
    try:
        record = orjson.loads(value or b"")
    except orjson.JSONDecodeError as exc:
        raise Unfit("undecodable", f"not JSON ({exc}); {len(value or b'')} bytes") from None
    if type(record) is not dict:
        raise Unfit("malformed", f"a JSON {type(record).__name__}, not an object")
    for name, required, check in FIELDS[kind]:
        if name not in record:
            if required:
                raise Unfit("malformed", f"no field {name!r}")
        elif not check(record[name]):
            raise Unfit("malformed", f"field {name!r} is {shown(record[name])}, not {_wanted(kind, name)}")
    if kind == "readings":
        lengths = {name: len(record[name]) for name in COLUMNS}
        if len(set(lengths.values())) > 1:
            raise Unfit("malformed", f"columns of different lengths {lengths}")
    enterprise = record["enterprise"]
    if partition_of(enterprise) != partition:
        raise Unfit("wrong_partition", f"enterprise {shown(enterprise)} belongs to partition "
                                       f"{partition_of(enterprise)}, read from {partition}")
    return record


def _wanted(kind: Kind, name: str) -> str:
    """The annotation of field ``name`` of ``kind`` in words, e.g. ``list[int]``."""
    annotation = get_type_hints(SHAPES[kind])[name]
    return str(annotation).replace("typing.", "") if get_origin(annotation) else annotation.__name__
