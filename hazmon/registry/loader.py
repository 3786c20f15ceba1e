"""Loading a registry directory: YAML files validated into a :class:`Registry`, with the county's boundary
when the directory ships one (:mod:`hazmon.registry.boundary`).

Every problem is reported with the file, the line and the field it is about, all problems of a
directory at once, so that an enterprise fixes its file in one round.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import ValidationError

from hazmon.registry.boundary import BOUNDARY_FILE, BoundaryError, CountyBoundary, load_boundary
from hazmon.registry.limits import COLOR_TYPES, EffectiveLimits, effective_limits
from hazmon.registry.models import EnterpriseFile, Point, PointType, Site
from hazmon.settings import get_settings
from hazmon.wire import PLATFORM_ENTERPRISE

YAML_SUFFIXES = (".yaml", ".yml")


@dataclass(frozen=True, slots=True)
class Problem:
    file: Path
    line: int | None
    field: str
    message: str

    def __str__(self) -> str:
        where = f"{self.file}:{self.line}" if self.line is not None else str(self.file)
        return f"{where}: {self.field}: {self.message}" if self.field else f"{where}: {self.message}"


class RegistryError(ValueError):
    """A registry that does not validate; ``problems`` lists every problem found."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = problems
        super().__init__("\n".join(str(p) for p in problems))


@dataclass(frozen=True, slots=True)
class PointEntry:
    """A registered point with what the platform derives for it."""

    enterprise: str
    point: Point
    site: Site
    limits: EffectiveLimits

    @property
    def id(self) -> str:
        return self.point.id


@dataclass(frozen=True)
class Registry:
    """All enterprises of a registry directory, indexed for the hot paths."""

    enterprises: dict[str, EnterpriseFile]
    points: dict[tuple[str, str], PointEntry]
    fingerprint: str
    files: dict[str, Path] = field(default_factory=dict)
    boundary: CountyBoundary | None = None     # the county's, when the directory ships county.geojson

    def point(self, enterprise: str, point_id: str) -> PointEntry | None:
        return self.points.get((enterprise, point_id))

    def devices(self, enterprise: str) -> dict[str, list[PointEntry]]:
        """Device id → its points, for one enterprise."""
        result: dict[str, list[PointEntry]] = {}
        for (ent, _), entry in self.points.items():
            if ent == enterprise:
                result.setdefault(entry.point.device, []).append(entry)
        return result

    def __iter__(self) -> Iterator[PointEntry]:
        return iter(self.points.values())

    @cached_property
    def alike(self) -> dict[tuple[str, str], tuple[int, int]]:
        """(enterprise, point id) → its place (from 1, in the order of ids) among its site's points of its type,
        and how many those are: what an unnamed point's number is (:func:`hazmon.registry.names.point_name`)."""
        groups: dict[tuple[str, str, PointType], list[str]] = {}
        for entry in self.points.values():
            groups.setdefault((entry.enterprise, entry.site.id, entry.point.type), []).append(entry.point.id)
        return {(enterprise, point_id): (place, len(ids))
                for (enterprise, _, _), ids in groups.items()
                for place, point_id in enumerate(sorted(ids), start=1)}


def _node_line(root: yaml.Node | None, loc: Iterable[int | str]) -> int | None:
    """1-based line of the deepest YAML node that ``loc`` (a pydantic error location) reaches."""
    node = root
    line = None if root is None else root.start_mark.line + 1
    for part in loc:
        if isinstance(node, yaml.MappingNode):
            match = next(((k, v) for k, v in node.value if isinstance(k, yaml.ScalarNode) and k.value == str(part)), None)
            if match is None:
                break
            line, node = match[0].start_mark.line + 1, match[1]
        elif isinstance(node, yaml.SequenceNode) and isinstance(part, int) and 0 <= part < len(node.value):
            node = node.value[part]
            line = node.start_mark.line + 1
        else:
            break
    return line


def _field_name(loc: Iterable[int | str]) -> str:
    text = ""
    for part in loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text


def _parse(path: Path, text: str) -> tuple[EnterpriseFile | None, yaml.Node | None, list[Problem]]:
    try:
        root = yaml.compose(text, Loader=yaml.SafeLoader)
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        return None, None, [Problem(path, None if mark is None else mark.line + 1, "", f"not valid YAML: {exc}")]
    if not isinstance(data, dict):
        return None, root, [Problem(path, 1, "", "expected a mapping with enterprise, sites and points")]
    try:
        return EnterpriseFile.model_validate(data), root, []
    except ValidationError as exc:
        problems = []
        for err in exc.errors():
            loc = [p for p in err["loc"] if not (isinstance(p, str) and "[" in p)]  # drop union-branch tags
            problems.append(Problem(path, _node_line(root, loc), _field_name(loc), err["msg"]))
        return None, root, problems


def _check_references(path: Path, root: yaml.Node | None, doc: EnterpriseFile) -> tuple[dict[str, PointEntry], list[Problem]]:
    problems: list[Problem] = []
    sites: dict[str, Site] = {}
    for i, site in enumerate(doc.sites):
        if site.id in sites:
            problems.append(Problem(path, _node_line(root, ["sites", i, "id"]), f"sites[{i}].id", f"duplicate site id {site.id!r}"))
        sites[site.id] = site
    entries: dict[str, PointEntry] = {}
    for i, point in enumerate(doc.points):
        def report(key: str, message: str, index: int = i) -> None:
            problems.append(Problem(path, _node_line(root, ["points", index, key]), f"points[{index}].{key}", message))
        if point.id in entries:
            report("id", f"duplicate point id {point.id!r}")
            continue
        point_site = sites.get(point.site)
        if point_site is None:
            report("site", f"site {point.site!r} is not among this file's sites")
            continue
        if point.range is None and point.type is not PointType.FIRE_DETECTOR:
            report("range", f"type {point.type.value} needs range: [low, high] (sensor faults and deadband use it)")
            continue
        try:
            limits = effective_limits(point, point_site)
        except ValueError as exc:
            report("colors" if point.colors is not None or point.type in COLOR_TYPES else "limits", str(exc))
            continue
        entries[point.id] = PointEntry(doc.enterprise.id, point, point_site, limits)
    return entries, problems


def load_enterprise_file(path: Path) -> tuple[EnterpriseFile, dict[str, PointEntry]]:
    """Validate one file; raises :class:`RegistryError` with every problem in it."""
    doc, root, problems = _parse(path, path.read_text(encoding="utf-8"))
    if doc is None:
        raise RegistryError(problems)
    entries, problems = _check_references(path, root, doc)
    if problems:
        raise RegistryError(problems)
    return doc, entries


def registry_files(directory: Path) -> list[Path]:
    return sorted(p for p in directory.iterdir() if p.is_file() and p.suffix in YAML_SUFFIXES)


def fingerprint(directory: Path) -> str:
    """A digest of the directory's registry files and boundary file (names and contents), to notice changes."""
    digest = hashlib.sha256()
    boundary = directory / BOUNDARY_FILE
    for path in [*registry_files(directory), *([boundary] if boundary.is_file() else [])]:
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()


def load_registry(directory: Path, platform_user: str | None = None) -> Registry:
    """Validate every registry file of ``directory`` and its ``county.geojson`` if any; raises :class:`RegistryError`
    listing all problems.

    No enterprise may take the platform's MQTT username (``platform_user``, default the setting
    ``mqtt_platform_user``): its broker account would be the platform's, with the platform's rights;
    nor the id of the platform's own alarms (``platform``, §9)."""
    platform_user = platform_user or get_settings().mqtt_platform_user
    if not directory.is_dir():
        raise RegistryError([Problem(directory, None, "", "registry directory does not exist")])
    enterprises: dict[str, EnterpriseFile] = {}
    files: dict[str, Path] = {}
    points: dict[tuple[str, str], PointEntry] = {}
    problems: list[Problem] = []
    paths = registry_files(directory)
    if not paths:
        problems.append(Problem(directory, None, "", "no registry files (*.yaml) in the directory"))
    for path in paths:
        try:
            doc, entries = load_enterprise_file(path)
        except RegistryError as exc:
            problems.extend(exc.problems)
            continue
        ent_id = doc.enterprise.id
        if ent_id == platform_user:
            problems.append(Problem(path, 1, "enterprise.id", f"{ent_id!r} is the platform's MQTT account, not an enterprise's"))
        if ent_id == PLATFORM_ENTERPRISE:
            problems.append(Problem(path, 1, "enterprise.id", f"{ent_id!r} names the platform's own alarms (§9), not an enterprise"))
            continue
        if ent_id in enterprises:
            problems.append(Problem(path, 1, "enterprise.id", f"enterprise {ent_id!r} is also registered in {files[ent_id]}"))
            continue
        enterprises[ent_id] = doc
        files[ent_id] = path
        points.update({(ent_id, pid): entry for pid, entry in entries.items()})
    boundary: CountyBoundary | None = None
    try:
        boundary = load_boundary(directory)
    except BoundaryError as exc:
        problems += [Problem(directory / BOUNDARY_FILE, None, where, what) for where, what in exc.problems]
    except (OSError, UnicodeDecodeError) as exc:
        problems.append(Problem(directory / BOUNDARY_FILE, None, "", f"unreadable: {exc}"))
    if problems:
        raise RegistryError(problems)
    return Registry(enterprises, points, fingerprint(directory), files, boundary)
