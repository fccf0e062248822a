"""Reading and checking ``data/capacity/*.csv`` against the network dataset next to it.

The files are edited by hand like the network files, so every problem comes back as
"capacity/services.csv:7, field 'capacity': ..." (the same :class:`Problem` the network uses)
and ``corridor network validate`` lists them with the network's own problems.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from corridor.capacity.errors import CapacityError
from corridor.capacity.model import (
    CargoKind,
    CrossingCapacity,
    PortCapacity,
    SailingCapacity,
    ServiceCapacity,
    Unit,
    Vessel,
)
from corridor.network.problems import DatasetError, Problem

SUBDIR = "capacity"
R = TypeVar("R", bound=BaseModel)


@dataclass(frozen=True)
class CapacityData:
    """The validated capacity dataset, indexed for booking and for the dispatch board."""

    services: dict[str, ServiceCapacity]
    sailings: dict[tuple[str, str, datetime], SailingCapacity]
    vessels: dict[str, Vessel]  # by service: the vessel (and rule) that runs it
    crossings: dict[str, CrossingCapacity]
    ports: dict[str, PortCapacity]

    def capacity_of(self, service: str, from_node: str, departure: datetime) -> int | None:
        """Capacity of one departure in the service's unit; None when the service is not managed."""
        special = self.sailings.get((service, from_node, departure.astimezone(UTC)))
        if special is not None:
            return special.capacity
        cap = self.services.get(service)
        return cap.capacity if cap else None

    def unit_of(self, service: str) -> Unit | None:
        cap = self.services.get(service)
        return cap.unit if cap else None

    def units(self, service: str, cargo: CargoKind, items: int) -> int:
        """Capacity units ``items`` of ``cargo`` take on ``service``; refuses what it does not carry."""
        if items <= 0:
            raise CapacityError("invalid", "items", "the number of items must be at least 1")
        cap = self.services.get(service)
        if cap is None:
            raise CapacityError("not_found", "service", f"no capacity is managed for {service!r}")
        per = cap.carries.get(cargo)
        if per is None:
            carried = ", ".join(k.value for k in cap.carries)
            raise CapacityError(
                "invalid", "cargo", f"{service} does not carry {cargo.value} (it carries {carried})"
            )
        return per * items


@dataclass
class _Reader:
    directory: Path
    problems: list[Problem] = field(default_factory=list)

    def rows(self, name: str, required: set[str]) -> Iterator[tuple[int, dict[str, str]]]:
        path = self.directory / SUBDIR / name
        label = f"{SUBDIR}/{name}"
        if not path.is_file():
            self.problems.append(Problem(label, None, None, None, "file not found"))
            return
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.DictReader(handle)
            missing = required - set(reader.fieldnames or [])
            if missing:
                cols = ", ".join(sorted(missing))
                self.problems.append(Problem(label, 1, None, None, f"missing column(s): {cols}"))
                return
            for row in reader:
                if None in row:
                    self.problems.append(
                        Problem(label, reader.line_num, None, None, "more cells than columns")
                    )
                    continue
                clean = {k: (v or "").strip() for k, v in row.items() if k is not None}
                if any(clean.values()):
                    yield reader.line_num, clean

    def build(
        self, name: str, model: type[R], line: int, key: str, data: dict[str, Any]
    ) -> R | None:
        try:
            return model.model_validate(data)
        except ValidationError as exc:
            for err in exc.errors():
                loc = str(err["loc"][0]) if err["loc"] else None
                msg = err["msg"].removeprefix("Value error, ")
                head, sep, rest = msg.partition(": ")
                if loc is None and sep and head.isidentifier():  # "field: reason" of a validator
                    loc, msg = head, rest
                self.problems.append(Problem(f"{SUBDIR}/{name}", line, key, loc, msg))
            return None

    def problem(self, name: str, line: int, key: str, fld: str, message: str) -> None:
        self.problems.append(Problem(f"{SUBDIR}/{name}", line, key, fld, message))


def _split(value: str) -> list[str]:
    return [part.strip() for part in value.split(";") if part.strip()]


def _nonblank(row: dict[str, str]) -> dict[str, Any]:
    return {k: v for k, v in row.items() if v != ""}


def _carries(text: str) -> dict[str, str] | str:
    out: dict[str, str] = {}
    for part in _split(text):
        kind, sep, units = part.partition("=")
        if not sep:
            return part
        out[kind.strip()] = units.strip()
    return out


def _network_ids(directory: Path) -> dict[str, Any]:
    """Ids (and service patterns) of the network files, read plainly so a broken network still
    lets the capacity files be checked."""

    def read(name: str) -> list[dict[str, str]]:
        path = directory / name
        if not path.is_file():
            return []
        with path.open(newline="", encoding="utf-8") as handle:
            return [
                {k: (v or "").strip() for k, v in r.items() if k} for r in csv.DictReader(handle)
            ]

    services = {r["id"]: r for r in read("services.csv") if r.get("id")}
    dated = {
        (r.get("service", ""), r.get("from", ""), r.get("departure", ""))
        for r in read("sailings.csv")
    }
    return {
        "sources": {r["id"] for r in read("sources.csv") if r.get("id")},
        "nodes": {r["id"]: r for r in read("nodes.csv") if r.get("id")},
        "services": services,
        "dated": dated,
        "crossings": {r["id"] for r in read("crossings.csv") if r.get("id")},
    }


def _runs(
    service: dict[str, str], from_node: str, departure: datetime, dated: set[Any]
) -> str | None:
    """Why ``departure`` is not a departure of ``service`` from ``from_node`` (None if it is)."""
    stops = _split(service.get("stops", ""))
    ends = {stops[0], stops[-1]} if service.get("both_directions", "yes") == "yes" else {stops[0]}
    if from_node not in ends:
        return f"{from_node} is not a terminus the service departs from ({', '.join(sorted(ends))})"
    if (service["id"], from_node, departure.strftime("%Y-%m-%dT%H:%M")) in dated:
        return None
    days = {d.lower()[:3] for d in service.get("weekdays", "").split()}
    day = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")[departure.weekday()]
    clock = departure.strftime("%H:%M")
    if day not in days or clock != service.get("departure_time", ""):
        return f"the service does not depart on a {day} at {clock} (it runs {service.get('weekdays')} at {service.get('departure_time')})"
    return None


def read_capacity(directory: Path) -> tuple[CapacityData, list[Problem]]:
    """The capacity records of a dataset directory and every problem found in them."""
    r = _Reader(directory)
    net = _network_ids(directory)

    def refs(name: str, line: int, key: str, ids: tuple[str, ...]) -> None:
        for ref in ids:
            if ref not in net["sources"]:
                r.problem(name, line, key, "source", f"unknown source id {ref!r} (sources.csv)")

    services: dict[str, ServiceCapacity] = {}
    name = "services.csv"
    for line, row in r.rows(name, {"service", "unit", "capacity", "carries", "source"}):
        carries = _carries(row["carries"])
        if isinstance(carries, str):
            r.problem(name, line, row["service"], "carries", f"{carries!r} is not kind=units")
            continue
        data = {**_nonblank(row), "carries": carries, "source": _split(row["source"])}
        rec = r.build(name, ServiceCapacity, line, row["service"], data)
        if rec is None:
            continue
        if rec.service in services:
            r.problem(name, line, rec.service, "service", "duplicate service")
        elif rec.service not in net["services"]:
            r.problem(name, line, rec.service, "service", "unknown service (services.csv)")
        else:
            services[rec.service] = rec
        refs(name, line, rec.service, rec.source)

    sailings: dict[tuple[str, str, datetime], SailingCapacity] = {}
    name = "sailings.csv"
    for line, row in r.rows(name, {"service", "departure", "from", "capacity", "source"}):
        data = {**_nonblank(row), "source": _split(row["source"])}
        data["from_node"] = data.pop("from", "")
        key = f"{row['service']}@{row['departure']}"
        sail = r.build(name, SailingCapacity, line, key, data)
        if sail is None:
            continue
        departure = sail.departure.replace(tzinfo=sail.departure.tzinfo or UTC).astimezone(UTC)
        service = net["services"].get(sail.service)
        if service is None:
            r.problem(name, line, key, "service", "unknown service (services.csv)")
            continue
        why = _runs(service, sail.from_node, departure, net["dated"])
        if why:
            r.problem(name, line, key, "departure", why)
            continue
        if (sail.service, sail.from_node, departure) in sailings:
            r.problem(name, line, key, "departure", "duplicate sailing")
            continue
        cap = services.get(sail.service)
        if cap is not None and sail.capacity > cap.capacity:
            r.problem(
                name,
                line,
                key,
                "capacity",
                f"{sail.capacity} exceeds the service's {cap.capacity} {cap.unit.value}",
            )
        sailings[(sail.service, sail.from_node, departure)] = sail
        refs(name, line, key, sail.source)

    vessels: dict[str, Vessel] = {}
    name = "vessels.csv"
    for line, row in r.rows(name, {"id", "name", "service", "rule", "source"}):
        data = {**_nonblank(row), "source": _split(row["source"])}
        vessel = r.build(name, Vessel, line, row["id"], data)
        if vessel is None:
            continue
        service = net["services"].get(vessel.service)
        if service is None:
            r.problem(name, line, vessel.id, "service", "unknown service (services.csv)")
        elif service.get("mode") != "ferry":
            r.problem(name, line, vessel.id, "service", "a vessel runs a ferry service")
        elif vessel.service in vessels:
            r.problem(name, line, vessel.id, "service", "one vessel rule per service")
        else:
            vessels[vessel.service] = vessel
        refs(name, line, vessel.id, vessel.source)

    crossings: dict[str, CrossingCapacity] = {}
    name = "crossings.csv"
    for line, row in r.rows(
        name, {"crossing", "trains_per_day", "road_lanes", "trucks_per_hour", "source"}
    ):
        data = {**_nonblank(row), "source": _split(row["source"])}
        if "equeue" in data:
            if data["equeue"] not in ("yes", "no"):
                r.problem(name, line, row["crossing"], "equeue", "write yes or no")
                continue
            data["equeue"] = data["equeue"] == "yes"
        crossing = r.build(name, CrossingCapacity, line, row["crossing"], data)
        if crossing is None:
            continue
        if crossing.crossing not in net["crossings"]:
            r.problem(name, line, crossing.crossing, "crossing", "unknown crossing (crossings.csv)")
        elif crossing.crossing in crossings:
            r.problem(name, line, crossing.crossing, "crossing", "duplicate crossing")
        else:
            crossings[crossing.crossing] = crossing
        refs(name, line, crossing.crossing, crossing.source)

    ports: dict[str, PortCapacity] = {}
    name = "ports.csv"
    for line, row in r.rows(
        name, {"node", "handling_teu_day", "handling_wagons_day", "yard_teu", "source"}
    ):
        data = {**_nonblank(row), "source": _split(row["source"])}
        port = r.build(name, PortCapacity, line, row["node"], data)
        if port is None:
            continue
        node = net["nodes"].get(port.node)
        if node is None:
            r.problem(name, line, port.node, "node", "unknown node (nodes.csv)")
        elif node.get("kind") != "sea_port":
            r.problem(
                name,
                line,
                port.node,
                "node",
                f"{port.node} is a {node.get('kind')}, not a sea_port",
            )
        elif port.node in ports:
            r.problem(name, line, port.node, "node", "duplicate port")
        else:
            ports[port.node] = port
        refs(name, line, port.node, port.source)

    return CapacityData(services, sailings, vessels, crossings, ports), sorted(r.problems)


def check_capacity(directory: Path) -> list[Problem]:
    """Every problem of the capacity files of a dataset (empty when clean); for ``network validate``."""
    return read_capacity(directory)[1]


_cache: dict[Path, CapacityData] = {}


def load_capacity(directory: Path) -> CapacityData:
    """The validated capacity data of a dataset; raises :class:`DatasetError` listing every problem."""
    key = directory.resolve()
    if not (directory / SUBDIR).is_dir():  # a dataset without capacity files manages none
        return CapacityData({}, {}, {}, {}, {})
    if key not in _cache:
        data, problems = read_capacity(directory)
        if problems:
            raise DatasetError(problems)
        _cache[key] = data
    return _cache[key]
