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
from dataclasses import dataclass
from typing import Literal, NotRequired, get_args, get_origin, get_type_hints

import orjson

from hazmon.logs import printable
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


Check = Callable[[object], bool]
ABSENT = object()   # a NotRequired field's value when it is not there


def _types_of(annotation: object) -> frozenset[type] | None:
    """The Python types JSON decodes to that a plain wire annotation takes; None for any other annotation."""
    if annotation is float:
        return frozenset((float, int))   # a JSON number; a bool is no int here: ``type`` is compared, not isinstance
    if annotation in (int, str, bool):
        return frozenset((annotation,))
    return None


def _check_of(annotation: object) -> Check:
    """A test of one value against a wire annotation (the subset ``hazmon.wire``'s input records use)."""
    types = _types_of(annotation)
    if types is not None:
        return lambda value: type(value) in types
    origin = get_origin(annotation)
    if origin is Literal:
        allowed = frozenset(get_args(annotation))
        return lambda value: type(value) is str and value in allowed
    if origin is list:
        (item,) = get_args(annotation)
        each = _check_of(item)
        return lambda value: type(value) is list and all(map(each, value))
    raise TypeError(f"no check for the wire annotation {annotation!r}")


def _optional(check: Check) -> Check:
    return lambda value: value is ABSENT or check(value)


@dataclass(frozen=True, slots=True)
class Shape:
    """The checks of one TypedDict, grouped so the common ones run without a call per field."""

    required: frozenset[str]
    scalars: tuple[tuple[str, frozenset[type]], ...]   # required fields of a plain type
    columns: tuple[tuple[str, frozenset[type]], ...]   # required lists of a plain type: one pass in C over their items
    others: tuple[tuple[str, Check], ...]              # the rest (a Literal, a NotRequired field: ABSENT passes)

    @classmethod
    def of(cls, typed_dict: type) -> Shape:
        required: set[str] = set()
        scalars: list[tuple[str, frozenset[type]]] = []
        columns: list[tuple[str, frozenset[type]]] = []
        others: list[tuple[str, Check]] = []
        for name, annotation in get_type_hints(typed_dict, include_extras=True).items():
            if get_origin(annotation) is NotRequired:
                (annotation,) = get_args(annotation)
                others.append((name, _optional(_check_of(annotation))))
                continue
            required.add(name)
            item = get_args(annotation)[0] if get_origin(annotation) is list else None
            if (types := _types_of(annotation)) is not None:
                scalars.append((name, types))
            elif (item_types := _types_of(item)) is not None:
                columns.append((name, item_types))
            else:
                others.append((name, _check_of(annotation)))
        return cls(frozenset(required), tuple(scalars), tuple(columns), tuple(others))

    def problem(self, record: dict) -> tuple[str, object] | None:
        """(field, its value) of the first field of ``record`` that is not as the shape says; None when all are."""
        if not self.required <= record.keys():
            return min(self.required - record.keys()), ABSENT
        for name, types in self.scalars:
            if type(record[name]) not in types:
                return name, record[name]
        for name, types in self.columns:
            value = record[name]
            if type(value) is not list or not types.issuperset(map(type, value)):
                return name, value
        for name, check in self.others:
            value = record.get(name, ABSENT)
            if not check(value):
                return name, value
        return None


CHECKS: dict[str, Shape] = {kind: Shape.of(typed_dict) for kind, typed_dict in SHAPES.items()}


def admit(kind: Kind, value: bytes | None, partition: int, partition_of: Callable[[str], int]) -> dict:
    """The record of ``kind`` in ``value``, read from ``partition``; ``partition_of`` gives an enterprise's
    partition. Raises ``Unfit`` when the engine could not read it."""
    try:
        record = orjson.loads(value or b"")
    except orjson.JSONDecodeError as exc:
        raise Unfit("undecodable", f"not JSON ({exc}); {len(value or b'')} bytes") from None
    if type(record) is not dict:
        raise Unfit("malformed", f"a JSON {type(record).__name__}, not an object")
    problem = CHECKS[kind].problem(record)
    if problem is not None:
        name, bad = problem
        raise Unfit("malformed", f"no field {name!r}" if bad is ABSENT else
                    f"field {name!r} is {printable(repr(bad), DETAIL_CHARS)}, not {_wanted(kind, name)}")
    if kind == "readings" and len({len(record[name]) for name in COLUMNS}) > 1:
        raise Unfit("malformed", f"columns of different lengths {({name: len(record[name]) for name in COLUMNS})}")
    enterprise = record["enterprise"]
    if partition_of(enterprise) != partition:
        raise Unfit("wrong_partition", f"enterprise {printable(repr(enterprise), DETAIL_CHARS)} belongs to partition "
                                       f"{partition_of(enterprise)}, read from {partition}")
    return record


def _wanted(kind: Kind, name: str) -> str:
    """The annotation of field ``name`` of ``kind`` in words, e.g. ``list[int]``."""
    annotation = get_type_hints(SHAPES[kind])[name]
    return str(annotation).replace("typing.", "") if get_origin(annotation) else annotation.__name__
