"""Reading the dataset files into typed records, collecting every problem instead of stopping.

People edit these files by hand, so a typo must come back as "nodes.csv:12, field 'lat': ..." and
never as a traceback. Each reader returns the records it could build and the problems it found.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import time
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from corridor.network.model import (
    WEEKDAYS,
    Corridor,
    Crossing,
    Dwell,
    EmissionFactor,
    Link,
    Node,
    Sailing,
    Service,
    Source,
    StormClosure,
)
from corridor.network.problems import Problem

GEOMETRY_FILE = "link_geometry.geojson"

R = TypeVar("R", bound=BaseModel)
Row = dict[str, str]


@dataclass
class RawDataset:
    """Records as read, before the cross-record checks of :mod:`corridor.network.validate`."""

    directory: Path
    sources: list[Source] = field(default_factory=list)
    nodes: list[Node] = field(default_factory=list)
    links: list[Link] = field(default_factory=list)
    services: list[Service] = field(default_factory=list)
    crossings: list[Crossing] = field(default_factory=list)
    corridors: list[Corridor] = field(default_factory=list)
    emission_factors: list[EmissionFactor] = field(default_factory=list)
    problems: list[Problem] = field(default_factory=list)
    #: (file, record id) -> line, so later checks can point at the line to fix.
    lines: dict[tuple[str, str], int] = field(default_factory=dict)
    #: Ids of rows that exist but could not be read: references to them are not reported again.
    broken: dict[str, set[str]] = field(default_factory=dict)

    def ids(self, file: str, records: list[Any]) -> set[str]:
        """Ids defined in ``file``, including rows that failed to read."""
        return {r.id for r in records} | self.broken.get(file, set())

    def problem(self, file: str, record: str | None, fld: str | None, message: str) -> None:
        line = self.lines.get((file, record)) if record else None
        self.problems.append(Problem(file, line, record, fld, message))


def _split(value: str, sep: str = ";") -> list[str]:
    return [part.strip() for part in value.split(sep) if part.strip()]


def _blank_to_none(row: Row) -> dict[str, Any]:
    return {k: v.strip() for k, v in row.items() if k is not None and v is not None and v.strip()}


#: Files a dataset may leave out (a small network needs no per-side dwell or storm table).
OPTIONAL_FILES = frozenset({"dwell.csv", "closures.csv"})


def _rows(ds: RawDataset, name: str, required: set[str]) -> Iterator[tuple[int, Row]]:
    path = ds.directory / name
    if not path.is_file():
        if name in OPTIONAL_FILES:
            return
        ds.problems.append(Problem(name, None, None, None, f"file not found in {ds.directory}"))
        return
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle)
        missing = required - set(reader.fieldnames or [])
        if missing:
            cols = ", ".join(sorted(missing))
            ds.problems.append(Problem(name, 1, None, None, f"missing column(s): {cols}"))
            return
        for row in reader:
            if None in row:  # more cells than header columns
                ds.problems.append(
                    Problem(name, reader.line_num, row.get("id"), None, "more cells than columns")
                )
                continue
            if not any((v or "").strip() for v in row.values()):
                continue
            yield reader.line_num, row


def _build(
    ds: RawDataset, name: str, model: type[R], line: int, key: str | None, data: dict[str, Any]
) -> R | None:
    try:
        record = model.model_validate(data)
    except ValidationError as exc:
        for err in exc.errors():
            loc = ".".join(str(part) for part in err["loc"]) or None
            msg = err["msg"].removeprefix("Value error, ")
            ds.problems.append(Problem(name, line, key, _column(loc), msg))
        return None
    if key is not None:
        if (name, key) in ds.lines:
            first = ds.lines[(name, key)]
            ds.problems.append(
                Problem(name, line, key, "id", f"duplicate id (first on line {first})")
            )
            return None
        ds.lines[(name, key)] = line
    return record


_COLUMN_NAMES = {"from_node": "from", "to_node": "to"}


def _column(loc: str | None) -> str | None:
    if loc is None:
        return None
    head = loc.split(".")[0]
    return _COLUMN_NAMES.get(head, head)


def _read(
    ds: RawDataset,
    name: str,
    model: type[R],
    required: set[str],
    convert: Callable[[dict[str, Any]], dict[str, Any]] = lambda d: d,
    key: str = "id",
) -> list[R]:
    records: list[R] = []
    for line, row in _rows(ds, name, required):
        data = _blank_to_none(row)
        try:
            data = convert(data)
        except ValueError as exc:
            field_name, _, message = str(exc).partition(": ")
            ds.problems.append(Problem(name, line, data.get(key), field_name, message))
            if data.get(key):
                ds.broken.setdefault(name, set()).add(data[key])
            continue
        record = _build(ds, name, model, line, data.get(key), data)
        if record is not None:
            records.append(record)
        elif data.get(key):
            ds.broken.setdefault(name, set()).add(data[key])
    return records


def _refs(data: dict[str, Any], *names: str) -> dict[str, Any]:
    for name in names:
        if name in data:
            data[name] = tuple(_split(data[name]))
    return data


def _node(data: dict[str, Any]) -> dict[str, Any]:
    return _refs(data, "source")


def _yes_no(data: dict[str, Any], name: str) -> None:
    if name in data:
        flag = str(data[name]).lower()
        if flag not in ("yes", "no"):
            raise ValueError(f"{name}: write yes or no")
        data[name] = flag == "yes"


def _link(data: dict[str, Any]) -> dict[str, Any]:
    _yes_no(data, "dangerous_goods")
    if "from" in data:
        data["from_node"] = data.pop("from")
    if "to" in data:
        data["to_node"] = data.pop("to")
    return _refs(
        data, "vehicle_source", "speed_source", "headway_source", "capacity_source", "tariff_source"
    )


def _service(data: dict[str, Any]) -> dict[str, Any]:
    data["stops"] = tuple(_split(data.get("stops", "")))
    days = []
    for day in _split(data.pop("weekdays", ""), " "):
        if day.lower()[:3] not in WEEKDAYS:
            raise ValueError(f"weekdays: {day!r} is not a weekday (Mon Tue Wed Thu Fri Sat Sun)")
        days.append(WEEKDAYS.index(day.lower()[:3]))
    data["weekdays"] = frozenset(days)
    if "departure_time" in data:
        try:
            data["departure_time"] = time.fromisoformat(data["departure_time"])
        except ValueError:
            raise ValueError(
                f"departure_time: {data['departure_time']!r} is not a time of day (HH:MM)"
            ) from None
    _yes_no(data, "both_directions")
    return _refs(data, "source", "load_wait_source", "usable_capacity_source", "block_train_source")


def _sailing(data: dict[str, Any]) -> dict[str, Any]:
    if "from" in data:
        data["from_node"] = data.pop("from")
    return _refs(data, "source")


def _crossing(dwell: dict[str, list[Dwell]]) -> Callable[[dict[str, Any]], dict[str, Any]]:
    """Crossings with their dwell rows from dwell.csv; ``dwell_h`` is then the typical total."""

    def convert(data: dict[str, Any]) -> dict[str, Any]:
        parts = dwell.get(data.get("id", ""), [])
        if parts and "dwell_h" in data:
            raise ValueError(
                "dwell_h: leave it blank, dwell.csv gives this crossing's dwell by side and direction"
            )
        if not parts and "dwell_h" not in data:
            raise ValueError("dwell_h: give the dwell in hours here or by side in dwell.csv")
        if parts:
            data["dwell"] = tuple(parts)
            data["dwell_h"] = round(
                sum(p.p50_h * (1.0 if p.direction == "both" else 0.5) for p in parts), 2
            )
            slowest = 0.0  # p90 of the slower direction, side by side
            for side in {p.side for p in parts}:
                mine = [p for p in parts if p.side == side]
                slowest += sum(p.p90_h for p in mine if p.direction == "both") + max(
                    (p.p90_h for p in mine if p.direction != "both"), default=0.0
                )
            data["dwell_min_h"] = 0.0
            data["dwell_max_h"] = round(max(slowest, data["dwell_h"]), 2)
        return _crossing_fields(data)

    return convert


def _crossing_fields(data: dict[str, Any]) -> dict[str, Any]:
    change = data.get("gauge_change")
    if change:
        parts = change.split("/")
        if len(parts) != 2 or not all(p.strip().isdigit() for p in parts):
            raise ValueError(
                f"gauge_change: {change!r} is not written from/to in mm, e.g. 1435/1520"
            )
        data["gauge_change"] = (int(parts[0]), int(parts[1]))
    return _refs(data, "source")


def _corridor(data: dict[str, Any]) -> dict[str, Any]:
    data["via"] = tuple(tuple(_split(group, "|")) for group in _split(data.get("via", "")))
    data["avoid_countries"] = tuple(_split(data.get("avoid_countries", "")))
    return _refs(data, "source")


def read_dataset(directory: Path) -> RawDataset:
    """Read every file of a dataset directory; problems are collected, never raised."""
    ds = RawDataset(directory=directory)
    ds.sources = _read(ds, "sources.csv", Source, {"id", "kind", "note"})
    ds.nodes = _read(
        ds, "nodes.csv", Node, {"id", "name", "country", "lat", "lon", "kind", "source"}, _node
    )
    ds.links = _read(ds, "links.csv", Link, {"id", "from", "to", "mode"}, _link)
    sailings = _read(ds, "sailings.csv", Sailing, {"service", "departure", "from"}, _sailing)
    services = _read(ds, "services.csv", Service, {"id", "mode", "stops", "source"}, _service)
    by_service: dict[str, list[Sailing]] = {}
    for sailing in sailings:
        by_service.setdefault(sailing.service, []).append(sailing)
    known = ds.ids("services.csv", services)
    for sid in sorted(set(by_service) - known):
        ds.problems.append(Problem("sailings.csv", None, sid, "service", "unknown service"))
    closures = _read(
        ds,
        "closures.csv",
        StormClosure,
        {"area", "month", "closed_day_share", "source"},
        lambda d: _refs(d, "source"),
        key="",
    )
    by_area: dict[str, list[StormClosure]] = {}
    for closure in closures:
        by_area.setdefault(closure.area, []).append(closure)
    for area in sorted(set(by_area) - {s.weather_area for s in services}):
        ds.problems.append(
            Problem("closures.csv", None, area, "area", "no service names this weather_area")
        )
    ds.services = [
        s.model_copy(
            update={
                "sailings": tuple(sorted(by_service.get(s.id, []), key=lambda x: x.departure)),
                "storms": tuple(sorted(by_area.get(s.weather_area, []), key=lambda c: c.month)),
            }
        )
        for s in services
    ]
    dwell_rows = _read(
        ds,
        "dwell.csv",
        Dwell,
        {"crossing", "side", "direction", "p50_h", "p90_h", "source"},
        lambda d: _refs(d, "source"),
        key="",
    )
    dwell: dict[str, list[Dwell]] = {}
    for row in dwell_rows:
        dwell.setdefault(row.crossing, []).append(row)
    ds.crossings = _read(
        ds, "crossings.csv", Crossing, {"id", "kind", "at", "dwell_h", "source"}, _crossing(dwell)
    )
    for cid in sorted(set(dwell) - ds.ids("crossings.csv", ds.crossings)):
        ds.problems.append(Problem("dwell.csv", None, cid, "crossing", "unknown crossing"))
    ds.corridors = _read(
        ds, "corridors.csv", Corridor, {"id", "name", "family", "via", "source"}, _corridor
    )
    ds.emission_factors = _read(
        ds,
        "emission_factors.csv",
        EmissionFactor,
        {"vehicle", "g_co2e", "per", "source"},
        lambda d: _refs(d, "source", "distance_factor_source"),
        key="vehicle",
    )
    ds.links = _attach_geometry(ds)
    return ds


def _attach_geometry(ds: RawDataset) -> list[Link]:
    """Give each link the distance and line computed by the geometry build script."""
    path = ds.directory / GEOMETRY_FILE
    if not path.is_file():
        ds.problems.append(
            Problem(
                GEOMETRY_FILE,
                None,
                None,
                None,
                "file not found: run scripts/build_network_geometry.py to compute link geometry",
            )
        )
        return ds.links
    try:
        collection = json.loads(path.read_text(encoding="utf-8"))
        features = collection["features"]
    except (ValueError, KeyError, TypeError) as exc:
        ds.problems.append(
            Problem(GEOMETRY_FILE, None, None, None, f"not a GeoJSON FeatureCollection ({exc})")
        )
        return ds.links
    computed: dict[str, dict[str, Any]] = {}
    for feature in features:
        try:
            props = feature["properties"]
            link_id = str(props["link"])
            coords = tuple((float(x), float(y)) for x, y in feature["geometry"]["coordinates"])
            computed[link_id] = {
                "distance_km": float(props["distance_km"]),
                "distance_method": str(props.get("method", "")),
                "geometry": coords,
            }
        except (KeyError, TypeError, ValueError) as exc:
            ds.problems.append(
                Problem(GEOMETRY_FILE, None, None, None, f"malformed feature ({exc})")
            )
    known = {link.id for link in ds.links}
    for link_id in sorted(set(computed) - known):
        ds.problems.append(
            Problem(
                GEOMETRY_FILE,
                None,
                link_id,
                "link",
                "geometry for a link that links.csv does not have",
            )
        )
    links = []
    for link in ds.links:
        if link.id in computed:
            links.append(link.model_copy(update=computed[link.id]))
        else:
            ds.problem(
                "links.csv",
                link.id,
                "distance_km",
                "no computed geometry: run scripts/build_network_geometry.py",
            )
            links.append(link)
    return links
