"""Scenarios as TOML files: a set of changes to a base, validated against the network.

A scenario names its ``base`` (another scenario file) and adds or replaces what differs: demand flows,
a demand scale, fleets, capacities, dwell reductions, customs times and disruptions. Loading resolves
the chain of bases into one :class:`Scenario`. Every problem is reported with the file, the line
(found by reading the file's table headers and keys), the field and the reason: a scenario that names
an unknown node or a negative capacity is refused before anything runs.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from corridor.simulation.errors import ScenarioError

SCENARIO_DIR = Path(__file__).resolve().parent.parent / "data" / "scenarios"

#: Default monthly seasonality (Jan..Dec), mean 1: winter storms on the Caspian, autumn harvest.
DEFAULT_SEASONALITY = (0.85, 0.85, 0.95, 1.0, 1.0, 1.0, 1.0, 1.05, 1.1, 1.1, 1.1, 1.0)

Cargo = Literal["container", "wagon", "truck"]


class _Table(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Header(_Table):
    name: str = Field(min_length=1)
    description: str = ""
    base: str | None = None
    year: int = Field(ge=2000, le=2100)
    horizon_days: float = Field(default=365.0, gt=0, le=3650)
    source: list[str] = Field(default_factory=list)


class Demand(_Table):
    scale: float = Field(default=1.0, gt=0)
    scale_source: str = ""
    seasonality: list[float] | None = Field(default=None, min_length=12, max_length=12)


class Flow(_Table):
    id: str = Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$")
    origin: str
    destination: str
    cargo: Cargo
    tonnes_per_year: float = Field(ge=0)
    corridor: str | None = None
    via: list[str] = Field(default_factory=list)
    source: str = Field(min_length=1)


class FleetChange(_Table):
    service: str
    vessels: int | None = Field(default=None, ge=0)
    add_vessels: int | None = None
    rule: Literal["loaded", "schedule"] | None = None
    load_factor: float | None = Field(default=None, gt=0, le=1)
    max_wait_h: float | None = Field(default=None, ge=0)
    source: str = ""


class CapacityChange(_Table):
    kind: Literal["link", "crossing", "transshipment", "berths", "container_terminal"]
    id: str
    factor: float | None = Field(default=None, gt=0)
    servers: int | None = Field(default=None, ge=1)
    capacity_per_year: float | None = Field(default=None, gt=0)
    source: str = ""


class DwellChange(_Table):
    target: str = Field(description='"borders", "transshipment" or a crossing id')
    factor: float = Field(gt=0, le=10)
    source: str = ""


class Customs(_Table):
    yellow_check_h: float | None = Field(default=None, ge=0)
    red_inspection_h: float | None = Field(default=None, ge=0)
    inspection_factor: float = Field(default=1.0, ge=0)
    source: str = ""


class Disruption(_Table):
    kind: Literal["port_closed", "border_closed"]
    target: str
    start_day: float = Field(ge=0)
    days: float = Field(gt=0)
    source: str = ""


class ScenarioFile(_Table):
    """One TOML file as written (before its base is folded in)."""

    scenario: Header
    demand: Demand = Demand()
    flow: list[Flow] = Field(default_factory=list)
    fleet: list[FleetChange] = Field(default_factory=list)
    capacity: list[CapacityChange] = Field(default_factory=list)
    dwell: list[DwellChange] = Field(default_factory=list)
    customs: Customs | None = None
    disruption: list[Disruption] = Field(default_factory=list)


@dataclass(frozen=True)
class Scenario:
    """A resolved scenario: the base chain folded into one set of inputs."""

    name: str
    description: str
    year: int
    horizon_days: float
    chain: tuple[str, ...]
    seasonality: tuple[float, ...]
    flows: tuple[Flow, ...]
    fleet: tuple[FleetChange, ...] = ()
    capacity: tuple[CapacityChange, ...] = ()
    dwell: tuple[DwellChange, ...] = ()
    customs: Customs = field(default_factory=Customs)
    disruptions: tuple[Disruption, ...] = ()
    changes: tuple[str, ...] = ()  # what each file of the chain changes, for people

    def total_tonnes(self) -> float:
        return sum(f.tonnes_per_year for f in self.flows)

    def to_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "description": self.description,
            "year": self.year,
            "horizon_days": self.horizon_days,
            "chain": list(self.chain),
            "seasonality": list(self.seasonality),
            "flows": [f.model_dump() for f in self.flows],
            "fleet": [f.model_dump() for f in self.fleet],
            "capacity": [c.model_dump() for c in self.capacity],
            "dwell": [d.model_dump() for d in self.dwell],
            "customs": self.customs.model_dump(),
            "disruptions": [d.model_dump() for d in self.disruptions],
            "changes": list(self.changes),
        }


def scenario_names(directory: Path = SCENARIO_DIR) -> list[str]:
    return sorted(p.stem for p in directory.glob("*.toml"))


def resolve_path(name_or_path: str, directory: Path = SCENARIO_DIR) -> Path:
    """A shipped scenario by name (``wb-2030``) or a path to a ``.toml`` file."""
    path = Path(name_or_path)
    if path.suffix == ".toml" or path.exists():
        if not path.is_file():
            raise ScenarioError("not_found", "scenario", f"no scenario file {name_or_path}")
        return path
    candidate = directory / f"{name_or_path}.toml"
    if not candidate.is_file():
        known = ", ".join(scenario_names(directory))
        raise ScenarioError(
            "not_found", "scenario", f"unknown scenario {name_or_path!r} (shipped: {known})"
        )
    return candidate


#: Checks one parsed file against the network (see :mod:`corridor.simulation.validate`).
Check = Callable[["ScenarioFile", str, str], None]


def load_scenario(
    name_or_path: str, directory: Path = SCENARIO_DIR, check: Check | None = None
) -> Scenario:
    """Read a scenario and its bases; raises :class:`ScenarioError` on the first problem.

    ``check`` validates each file of the chain as it is read, so its errors carry that file's lines.
    """
    return _load(resolve_path(name_or_path, directory), directory, (), check)


def load_text(
    text: str,
    filename: str = "<scenario>",
    directory: Path = SCENARIO_DIR,
    check: Check | None = None,
) -> Scenario:
    """Read a scenario given as text (the API's upload path); bases come from ``directory``."""
    return _fold(_parse(text, filename), text, filename, directory, (), check)


def _load(path: Path, directory: Path, seen: tuple[str, ...], check: Check | None) -> Scenario:
    text = path.read_text(encoding="utf-8")
    return _fold(_parse(text, path.name), text, path.name, directory, seen, check)


def _parse(text: str, filename: str) -> ScenarioFile:
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        match = re.search(r"line (\d+)", str(exc))
        line = int(match.group(1)) if match else None
        raise ScenarioError("malformed", None, f"not valid TOML: {exc}", filename, line) from None
    try:
        return ScenarioFile.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        loc = tuple(first["loc"])
        reason = str(first["msg"]).removeprefix("Value error, ")
        if first["type"] == "extra_forbidden":
            reason = "unknown field"
        if first["type"] == "missing":
            reason = "required field is missing"
        field_name = ".".join(str(p) for p in loc)
        raise ScenarioError("invalid", field_name, reason, filename, locate(text, loc)) from None


def _fold(
    parsed: ScenarioFile,
    text: str,
    filename: str,
    directory: Path,
    seen: tuple[str, ...],
    check: Check | None,
) -> Scenario:
    header = parsed.scenario
    if check is not None:
        check(parsed, text, filename)
    if header.base is not None:
        if header.base in seen or header.base == header.name:
            raise ScenarioError(
                "invalid", "scenario.base", f"base chain loops back to {header.base!r}",
                filename, locate(text, ("scenario", "base")),
            )  # fmt: skip
        try:
            parent = _load(
                resolve_path(header.base, directory), directory, (*seen, header.name), check
            )
        except ScenarioError as exc:
            if exc.code != "not_found":
                raise
            raise ScenarioError(
                "invalid", "scenario.base", exc.reason, filename,
                locate(text, ("scenario", "base")),
            ) from None  # fmt: skip
    else:
        parent = Scenario(header.name, "", header.year, 365.0, (), DEFAULT_SEASONALITY, ())
    flows = {f.id: f for f in parent.flows}
    scale = parsed.demand.scale
    if scale != 1.0:
        flows = {
            k: f.model_copy(update={"tonnes_per_year": f.tonnes_per_year * scale})
            for k, f in flows.items()
        }
    for i, flow in enumerate(parsed.flow):
        if flow.corridor and flow.via:
            raise ScenarioError(
                "invalid", f"flow.{i}.via", "give a corridor or via nodes, not both",
                filename, locate(text, ("flow", i, "via")),
            )  # fmt: skip
        flows[flow.id] = flow
    return replace(
        parent,
        name=header.name,
        description=header.description,
        year=header.year,
        horizon_days=header.horizon_days,
        chain=(*parent.chain, filename),
        seasonality=tuple(parsed.demand.seasonality or parent.seasonality),
        flows=tuple(flows.values()),
        fleet=(*parent.fleet, *parsed.fleet),
        capacity=(*parent.capacity, *parsed.capacity),
        dwell=(*parent.dwell, *parsed.dwell),
        customs=parsed.customs or parent.customs,
        disruptions=(*parent.disruptions, *parsed.disruption),
        changes=(*parent.changes, *(f"{header.name}: {c}" for c in describe(parsed))),
    )


def describe(parsed: ScenarioFile) -> list[str]:
    """One line per change a scenario file makes (shown by the CLI and the report)."""
    out: list[str] = []
    if parsed.demand.scale != 1.0:
        out.append(f"demand x{parsed.demand.scale:g} ({parsed.demand.scale_source or 'no source'})")
    for f in parsed.flow:
        out.append(
            f"flow {f.id}: {f.tonnes_per_year:,.0f} t/yr {f.cargo} {f.origin} -> {f.destination}"
        )
    for fl in parsed.fleet:
        what = (
            f"{fl.vessels} vessels"
            if fl.vessels is not None
            else f"{fl.add_vessels:+d} vessels"
            if fl.add_vessels is not None
            else f"rule {fl.rule}"
        )
        out.append(f"fleet {fl.service}: {what} ({fl.source or 'no source'})")
    for c in parsed.capacity:
        what = (
            f"x{c.factor:g}"
            if c.factor is not None
            else f"{c.servers} servers"
            if c.servers is not None
            else f"{c.capacity_per_year:,.0f} a year"
        )
        out.append(f"{c.kind} {c.id}: {what} ({c.source or 'no source'})")
    for d in parsed.dwell:
        out.append(f"dwell {d.target}: x{d.factor:g} ({d.source or 'no source'})")
    if parsed.customs:
        out.append(f"customs checks x{parsed.customs.inspection_factor:g}")
    for x in parsed.disruption:
        out.append(f"{x.kind} {x.target}: day {x.start_day:g} for {x.days:g} days")
    return out


_HEADER = re.compile(r"^\s*(\[\[?)\s*([A-Za-z0-9_.\-]+)\s*\]\]?")
_KEY = re.compile(r"^\s*([A-Za-z0-9_\-]+)\s*=")


def locate(text: str, loc: tuple[Any, ...]) -> int | None:
    """The 1-based line of ``loc`` (``("flow", 2, "origin")``, ``("scenario", "year")``) in ``text``.

    Reads only table headers and ``key =`` lines, which is all a scenario uses; falls back to the
    table's header line when the key is absent (a missing field) and to ``None`` when even the table
    is not there.
    """
    if not loc:
        return None
    table = str(loc[0])
    index = loc[1] if len(loc) > 1 and isinstance(loc[1], int) else None
    rest = loc[2:] if index is not None else loc[1:]
    key = str(rest[0]) if rest else None
    count = -1
    inside = False
    header_line: int | None = None
    for number, line in enumerate(text.splitlines(), start=1):
        head = _HEADER.match(line)
        if head:
            name = head.group(2)
            inside = False
            if name == table:
                if head.group(1) == "[[":
                    count += 1
                    inside = index is None or count == index
                else:
                    inside = True
                if inside:
                    header_line = number
            continue
        if inside and key is not None:
            found = _KEY.match(line)
            if found and found.group(1) == key:
                return number
    return header_line
