"""Typed records of the corridor network.

Each class mirrors one file of the dataset (``nodes.csv``, ``links.csv`` ...). Field validators check
what a single record can know about itself (ranges, codes, formats); cross-record checks such as
"this link names an unknown node" live in :mod:`corridor.network.validate`, because they need the
whole dataset. Records are frozen: a loaded network is a value that routing and the API share safely.
"""

from __future__ import annotations

import re
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

ID_PATTERN = r"^[a-z0-9][a-z0-9_\-]*$"
Id = Annotated[str, Field(pattern=ID_PATTERN, max_length=64)]

#: Track gauges that occur on the corridor and its rivals (mm).
KNOWN_GAUGES = frozenset({1000, 1067, 1435, 1520, 1668})
WEEKDAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")


def _country(code: str) -> str:
    code = code.strip().upper()
    if pycountry.countries.get(alpha_2=code) is None:
        raise ValueError(f"unknown ISO 3166 alpha-2 country code {code!r}")
    return code


def _gauge(value: int | None) -> int | None:
    if value is not None and value not in KNOWN_GAUGES:
        known = ", ".join(str(g) for g in sorted(KNOWN_GAUGES))
        raise ValueError(f"unknown track gauge {value} mm (known: {known})")
    return value


Country = Annotated[str, AfterValidator(_country)]
Gauge = Annotated[int | None, AfterValidator(_gauge)]
SourceRefs = Annotated[tuple[str, ...], Field(min_length=1)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class SourceKind(StrEnum):
    PUBLICATION = "publication"
    DATASET = "dataset"
    ESTIMATE = "estimate"


class Source(_Record):
    """Where a figure comes from; an ``estimate`` must say in ``note`` how it was estimated."""

    id: Id
    kind: SourceKind
    organisation: str = ""
    title: str = ""
    year: int | None = Field(default=None, ge=1800, le=2100)
    url: str = ""
    note: str = ""

    @model_validator(mode="after")
    def _complete(self) -> Source:
        if self.kind is SourceKind.ESTIMATE and not self.note:
            raise ValueError("an estimate needs a note saying how it was estimated")
        if self.kind is not SourceKind.ESTIMATE and not (self.organisation and self.title):
            raise ValueError("a publication or dataset needs an organisation and a title")
        return self


class NodeKind(StrEnum):
    RAIL_TERMINAL = "rail_terminal"
    SEA_PORT = "sea_port"
    BORDER_CROSSING = "border_crossing"
    DRY_PORT = "dry_port"
    LOGISTICS_HUB = "logistics_hub"


class Node(_Record):
    """A place where freight starts, ends, changes vehicle or crosses a border."""

    id: Id
    name: str = Field(min_length=1)
    country: Country
    lat: float = Field(ge=-90, le=90)
    lon: float = Field(ge=-180, le=180)
    kind: NodeKind
    gauge_mm: Gauge = None
    unlocode: str | None = Field(default=None, pattern=r"^[A-Z]{2}[A-Z2-9]{3}$")
    source: SourceRefs


class Mode(StrEnum):
    RAIL = "rail"
    FERRY = "ferry"
    SEA = "sea"
    ROAD = "road"


#: Modes whose links can only be used on a scheduled sailing.
SCHEDULED_MODES = frozenset({Mode.FERRY, Mode.SEA})


class CapacityUnit(StrEnum):
    TONNES = "t"
    TEU = "teu"
    WAGONS = "wagons"
    TRAINS = "trains"


class TariffUnit(StrEnum):
    PER_TEU = "teu"
    PER_WAGON = "wagon"
    PER_TONNE = "tonne"


class Link(_Record):
    """A piece of infrastructure between two nodes, usable in both directions.

    ``distance_km`` and ``geometry`` are not typed by hand: they come from ``link_geometry.geojson``,
    which ``scripts/build_network_geometry.py`` computes from OpenStreetMap and the searoute graph.
    """

    id: Id
    from_node: Id
    to_node: Id
    mode: Mode
    gauge_mm: Gauge = None
    operator: str = ""
    vehicle: Id | None = None
    vehicle_source: tuple[str, ...] = ()
    speed_kmh: float | None = Field(default=None, gt=0, le=120)
    speed_source: tuple[str, ...] = ()
    headway_h: float | None = Field(default=None, gt=0, le=24 * 31)
    headway_source: tuple[str, ...] = ()
    capacity_year: float | None = Field(default=None, gt=0)
    capacity_year_unit: CapacityUnit | None = None
    capacity_day: float | None = Field(default=None, gt=0)
    capacity_day_unit: CapacityUnit | None = None
    capacity_source: tuple[str, ...] = ()
    tariff_usd: float | None = Field(default=None, ge=0)
    tariff_unit: TariffUnit | None = None
    tariff_source: tuple[str, ...] = ()
    dangerous_goods: bool = True
    distance_km: float = 0.0
    distance_method: str = ""
    geometry: tuple[tuple[float, float], ...] = ()

    @model_validator(mode="after")
    def _consistent(self) -> Link:
        if self.from_node == self.to_node:
            raise ValueError("a link must join two different nodes")
        if self.mode is Mode.RAIL and self.gauge_mm is None:
            raise ValueError("gauge_mm: a rail link needs its track gauge")
        if self.mode in (Mode.RAIL, Mode.ROAD) and self.speed_kmh is None:
            raise ValueError("speed_kmh: a rail or road link needs a commercial speed")
        if self.mode in (Mode.RAIL, Mode.ROAD) and self.vehicle is None:
            raise ValueError(
                "vehicle: a rail or road link needs a vehicle type (emission_factors.csv)"
            )
        _figure_with_unit(self.capacity_year, self.capacity_year_unit, "capacity_year")
        _figure_with_unit(self.capacity_day, self.capacity_day_unit, "capacity_day")
        _figure_with_unit(self.tariff_usd, self.tariff_unit, "tariff_usd")
        for figure, refs, name in (
            (self.speed_kmh, self.speed_source, "speed"),
            (self.headway_h, self.headway_source, "headway"),
            (self.capacity_year or self.capacity_day, self.capacity_source, "capacity"),
            (self.tariff_usd, self.tariff_source, "tariff"),
        ):
            if figure is not None and not refs:
                raise ValueError(f"{name}_source: every figure needs a source id or an estimate")
        return self

    @property
    def running_time_h(self) -> float | None:
        """Typical running time, from the distance and the commercial speed."""
        if self.speed_kmh is None or not self.distance_km:
            return None
        return self.distance_km / self.speed_kmh


def _figure_with_unit(value: float | None, unit: object, name: str) -> None:
    if value is not None and unit is None:
        raise ValueError(f"{name}: a figure needs its unit ({name}_unit)")


class Sailing(_Record):
    """One dated departure of a service, from ``from_node`` (its first or its last stop)."""

    service: Id
    departure: datetime
    from_node: Id
    capacity_teu: int | None = Field(default=None, gt=0)
    source: SourceRefs


class Service(_Record):
    """A scheduled line: a ferry, a sea loop or a block train, along ``stops`` in order.

    Departures come from ``weekdays`` + ``departure_time`` (a weekly pattern) and from dated
    sailings (``sailings.csv``); with ``both_directions`` the same pattern runs from the last stop back.
    """

    id: Id
    name: str = Field(min_length=1)
    operator: str = ""
    mode: Mode
    vehicle: Id | None = None
    stops: tuple[Id, ...] = Field(min_length=2)
    weekdays: frozenset[int] = frozenset()
    departure_time: time = time(0, 0)
    both_directions: bool = True
    duration_h: float | None = Field(default=None, gt=0, le=24 * 60)
    stop_dwell_h: float = Field(default=0.0, ge=0, le=72)
    capacity_teu: int | None = Field(default=None, gt=0)
    capacity_wagons: int | None = Field(default=None, gt=0)
    source: SourceRefs
    sailings: tuple[Sailing, ...] = ()

    @model_validator(mode="after")
    def _vehicle(self) -> Service:
        if self.mode in SCHEDULED_MODES and self.vehicle is None:
            raise ValueError(
                "vehicle: a ferry or sea service needs a vehicle type (emission_factors.csv)"
            )
        return self


class CrossingKind(StrEnum):
    BORDER = "border"
    TRANSSHIPMENT = "transshipment"


GAUGE_CHANGE = re.compile(r"^(\d{3,4})/(\d{3,4})$")


class Crossing(_Record):
    """A border crossing (on a link) or a transshipment point (at a node) and the time it costs.

    ``gauge_change`` is written ``from/to`` in mm: for a border it follows the link's direction.
    """

    id: Id
    name: str = Field(min_length=1)
    kind: CrossingKind
    at: Id
    dwell_h: float = Field(ge=0, le=24 * 60)
    dwell_min_h: float = Field(ge=0, le=24 * 60)
    dwell_max_h: float = Field(ge=0, le=24 * 60)
    gauge_change: tuple[int, int] | None = None
    office_a: str = ""
    office_b: str = ""
    source: SourceRefs

    @model_validator(mode="after")
    def _consistent(self) -> Crossing:
        if not self.dwell_min_h <= self.dwell_h <= self.dwell_max_h:
            raise ValueError("dwell_h: the typical dwell must lie within dwell_min_h..dwell_max_h")
        if self.kind is CrossingKind.BORDER and not (self.office_a and self.office_b):
            raise ValueError(
                "office_a/office_b: a border crossing names the customs office on each side"
            )
        if self.gauge_change is not None:
            for gauge in self.gauge_change:
                _gauge(gauge)
        return self


class EmissionUnit(StrEnum):
    TONNE_KM = "tkm"
    TEU_KM = "teukm"


class EmissionFactor(_Record):
    """Greenhouse-gas intensity of a vehicle type, per ISO 14083 / GLEC (well-to-wheel).

    ``distance_factor`` turns the network distance into the distance the factor is meant for
    (for example +15 % for container ships, whose factors assume real sailed distance).
    """

    vehicle: Id
    name: str = Field(min_length=1)
    mode: Mode
    g_co2e: float = Field(gt=0, le=2000)
    per: EmissionUnit
    basis: str = Field(pattern="^WTW$")
    distance_factor: float = Field(ge=1.0, le=2.0)
    distance_factor_source: SourceRefs
    source: SourceRefs

    @property
    def id(self) -> str:
        return self.vehicle


class CorridorFamily(StrEnum):
    MIDDLE = "middle"
    NORTHERN = "northern"
    SEA = "sea"
    SOUTHERN = "southern"


class Corridor(_Record):
    """A named route a shipper weighs: it must pass ``via`` (each group: any one of its nodes) in order
    and avoid ``avoid_countries``."""

    id: Id
    name: str = Field(min_length=1)
    family: CorridorFamily
    via: tuple[tuple[Id, ...], ...] = Field(min_length=1)
    avoid_countries: tuple[Country, ...] = ()
    description: str = ""
    source: SourceRefs
