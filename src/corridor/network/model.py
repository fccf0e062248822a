"""Typed records of the corridor network.

Each class mirrors one file of the dataset (``nodes.csv``, ``links.csv`` ...). Field validators check
what a single record can know about itself (ranges, codes, formats); cross-record checks such as
"this link names an unknown node" live in :mod:`corridor.network.validate`, because they need the
whole dataset. Records are frozen: a loaded network is a value that routing and the API share safely.
"""

from __future__ import annotations

import math
import re
from datetime import datetime, time
from enum import StrEnum
from typing import Annotated

import pycountry
from pydantic import AfterValidator, BaseModel, ConfigDict, Field, model_validator

from corridor.network.modes import Mode as Mode
from corridor.network.modes import capability, scheduled_modes

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
    SEA_WAYPOINT = "sea_waypoint"  # a point a sea route passes without calling (e.g. the Cape)
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


#: Modes whose links can only be used on a scheduled sailing.
SCHEDULED_MODES = scheduled_modes()


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
        cap = capability(self.mode)
        if cap.gauge and self.gauge_mm is None:
            raise ValueError(f"gauge_mm: a {self.mode} link needs its track gauge")
        if cap.needs_speed_and_vehicle and self.speed_kmh is None:
            raise ValueError(f"speed_kmh: a {self.mode} link needs a commercial speed")
        if cap.needs_speed_and_vehicle and self.vehicle is None:
            raise ValueError(
                f"vehicle: a {self.mode} link needs a vehicle type (emission_factors.csv)"
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


class StormClosure(_Record):
    """Storm closures of a sea area in one month: the share of days on which ships do not sail."""

    area: Id
    month: int = Field(ge=1, le=12)
    closed_day_share: float = Field(ge=0, lt=1)
    source: SourceRefs

    def delay_days(self, quantile: float) -> int:
        """Whole days a departure is held at ``quantile``: closed days come in a run, each next
        day closed with the month's share, so P(held >= k days) = share ** k."""
        if self.closed_day_share <= 0:
            return 0
        k = 0
        while self.closed_day_share ** (k + 1) > 1 - quantile and k < 31:
            k += 1
        return k


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
    #: Ships that sail when loaded wait at the first stop: median and 90th percentile (hours).
    load_wait_p50_h: float = Field(default=0.0, ge=0, le=24 * 30)
    load_wait_p90_h: float = Field(default=0.0, ge=0, le=24 * 30)
    load_wait_source: tuple[str, ...] = ()
    #: Share of the nominal capacity that can be loaded (e.g. low water in the Caspian ports).
    usable_capacity_share: float = Field(default=1.0, gt=0, le=1.0)
    usable_capacity_source: tuple[str, ...] = ()
    #: A consignment of at least this many TEU (and at most one train) gets a block train of its
    #: own at a scheduled departure time when the scheduled train is full.
    block_train_min_teu: int | None = Field(default=None, gt=0)
    block_train_source: tuple[str, ...] = ()
    #: Sea area whose storm closures (closures.csv) hold this service's departures.
    weather_area: str = ""
    #: A strait or canal the service passes that can be closed to it (e.g. ``suez``).
    passage: str = ""
    sailings: tuple[Sailing, ...] = ()
    storms: tuple[StormClosure, ...] = ()

    def storm_in(self, month: int) -> StormClosure | None:
        return next((c for c in self.storms if c.month == month), None)

    @model_validator(mode="after")
    def _vehicle(self) -> Service:
        if self.load_wait_p90_h < self.load_wait_p50_h:
            raise ValueError("load_wait_p90_h: the 90th percentile cannot be below the median")
        if (self.load_wait_p90_h or self.usable_capacity_share < 1) and not (
            self.load_wait_source if self.load_wait_p90_h else self.usable_capacity_source
        ):
            raise ValueError("load_wait_source: every figure needs a source id or an estimate")
        if self.block_train_min_teu is not None and not self.block_train_source:
            raise ValueError("block_train_source: every figure needs a source id or an estimate")
        if capability(self.mode).scheduled and self.vehicle is None:
            raise ValueError(
                f"vehicle: a {self.mode} service needs a vehicle type (emission_factors.csv)"
            )
        return self


class CrossingKind(StrEnum):
    BORDER = "border"
    TRANSSHIPMENT = "transshipment"


GAUGE_CHANGE = re.compile(r"^(\d{3,4})/(\d{3,4})$")


class DwellDirection(StrEnum):
    """Which way a dwell figure applies, as CAREC CPMM publishes it.

    At a border: ``inbound`` into the side's country, ``outbound`` out of it. At a port:
    ``inbound`` from the water to land, ``outbound`` from land onto the water.
    """

    INBOUND = "inbound"
    OUTBOUND = "outbound"
    BOTH = "both"


#: z-score of the 90th percentile of a normal distribution (for lognormal dwell fits).
Z90 = 1.2815515655446004


class Dwell(_Record):
    """One side's dwell at a crossing as a distribution: its median and its 90th percentile.

    Published dwell is skewed (a few consignments wait days), so two quantiles are kept rather than
    one mean; the planner's typical clock uses the median and its p90 clock the 90th percentile.
    """

    crossing: Id
    side: str = ""
    direction: DwellDirection = DwellDirection.BOTH
    p50_h: float = Field(ge=0, le=24 * 60)
    p90_h: float = Field(ge=0, le=24 * 60)
    source: SourceRefs
    note: str = ""

    @model_validator(mode="after")
    def _ordered(self) -> Dwell:
        if self.p90_h < self.p50_h:
            raise ValueError("p90_h: the 90th percentile cannot be below the median (p50_h)")
        if self.side:
            _country(self.side)
        return self

    @property
    def mean_h(self) -> float:
        """Mean of the lognormal with this median and p90 (0 when the median is 0)."""
        if self.p50_h <= 0:
            return 0.0
        sigma = math.log(max(self.p90_h, self.p50_h) / self.p50_h) / Z90
        return self.p50_h * math.exp(sigma * sigma / 2)


class Crossing(_Record):
    """A border crossing (on a link) or a transshipment point (at a node) and the time it costs.

    ``gauge_change`` is written ``from/to`` in mm: for a border it follows the link's direction.
    The time is either one figure for both sides and directions (``dwell_h``, optionally
    ``dwell_p90_h``), or, when published by side and direction, rows of ``dwell.csv`` (then
    ``dwell_h`` is left blank in crossings.csv and filled here with the typical total).
    """

    id: Id
    name: str = Field(min_length=1)
    kind: CrossingKind
    at: Id
    dwell_h: float = Field(ge=0, le=24 * 60)
    dwell_p90_h: float | None = Field(default=None, ge=0, le=24 * 60)
    #: Plausible range of the total dwell; blank means the typical figure (no spread). With
    #: dwell.csv rows the range is 0 to the 90th percentile of the slower direction.
    dwell_min_h: float = Field(default=-1.0, le=24 * 60)
    dwell_max_h: float = Field(default=-1.0, le=24 * 60)
    gauge_change: tuple[int, int] | None = None
    office_a: str = ""
    office_b: str = ""
    source: SourceRefs
    dwell: tuple[Dwell, ...] = ()

    @model_validator(mode="before")
    @classmethod
    def _range(cls, data: object) -> object:
        if isinstance(data, dict) and "dwell_h" in data:
            for name in ("dwell_min_h", "dwell_max_h"):
                if data.get(name) in (None, "", -1.0):
                    data = {**data, name: data["dwell_h"]}
        return data

    @model_validator(mode="after")
    def _consistent(self) -> Crossing:
        low, high = self.dwell_min_h, self.dwell_max_h
        if low < 0:
            raise ValueError("dwell_min_h: a dwell cannot be negative")
        if not low <= self.dwell_h <= high:
            raise ValueError("dwell_h: the typical dwell must lie within dwell_min_h..dwell_max_h")
        if self.dwell_p90_h is not None and self.dwell_p90_h < self.dwell_h:
            raise ValueError("dwell_p90_h: the 90th percentile cannot be below dwell_h")
        if self.kind is CrossingKind.BORDER and not (self.office_a and self.office_b):
            raise ValueError(
                "office_a/office_b: a border crossing names the customs office on each side"
            )
        if self.gauge_change is not None:
            for gauge in self.gauge_change:
                _gauge(gauge)
        return self

    def dwell_for(
        self, *, entering: str = "", leaving: str = "", inbound: bool | None = None
    ) -> tuple[float, float]:
        """(median, p90) hours of one passage.

        A border passage goes from country ``leaving`` into ``entering``; a port passage is
        ``inbound`` (water to land), outbound (land to water) or neither (``None``: then a
        directional figure counts half, as the average of the two directions). The sides add up;
        their p90s add too, which is the p90 of the sum when delays move together (a congested
        month is congested on both sides), the conservative reading of the published figures.
        """
        if not self.dwell:
            return self.dwell_h, self.dwell_p90_h if self.dwell_p90_h is not None else self.dwell_h
        p50 = p90 = 0.0
        for part in self.dwell:
            if part.direction is DwellDirection.BOTH:
                weight = 1.0
            else:
                if self.kind is CrossingKind.BORDER:
                    way = (
                        DwellDirection.INBOUND
                        if part.side == entering
                        else DwellDirection.OUTBOUND
                        if part.side == leaving
                        else None
                    )
                else:
                    way = (
                        None
                        if inbound is None
                        else DwellDirection.INBOUND
                        if inbound
                        else DwellDirection.OUTBOUND
                    )
                weight = 0.5 if way is None else float(way is part.direction)
            p50 += weight * part.p50_h
            p90 += weight * part.p90_h
        return p50, p90


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
