"""Typed records of the capacity dataset (``data/capacity/*.csv``), one class per file.

Capacities are kept in the unit each operator sells (TEU, wagons, trucks) because that is what a
booking takes and what an operator recognises on the dispatch board; converting to TEU would hide
that a rail ferry is full at 52 wagons whatever the boxes on them.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, model_validator

Id = Annotated[str, Field(pattern=r"^[a-z0-9][a-z0-9_\-]*$", max_length=64)]
SourceRefs = Annotated[tuple[str, ...], Field(min_length=1)]


class _Record(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid", str_strip_whitespace=True)


class Unit(StrEnum):
    """Units operators sell capacity in."""

    TEU = "teu"
    WAGONS = "wagons"
    TRUCKS = "trucks"


class CargoKind(StrEnum):
    """What a booking puts on a vehicle: an ISO container, a rail wagon, a truck or a trailer."""

    C20 = "20GP"
    C40 = "40GP"
    C40HC = "40HC"
    C45HC = "45HC"
    RAIL_WAGON = "rail_wagon"
    TRUCK = "truck"
    TRAILER = "trailer"


class ServiceCapacity(_Record):
    """Capacity of every departure of a service, and the units each cargo kind takes on it.

    A cargo kind missing from ``carries`` is not carried at all (a truck on a rail-only ferry).
    """

    service: Id
    unit: Unit
    capacity: int = Field(gt=0, le=100_000)
    carries: dict[CargoKind, Annotated[int, Field(gt=0, le=100)]] = Field(min_length=1)
    source: SourceRefs


class SailingCapacity(_Record):
    """A dated departure whose capacity differs from its service's (low water, a smaller vessel)."""

    service: Id
    departure: datetime
    from_node: Id
    capacity: int = Field(ge=0, le=100_000)
    source: SourceRefs


class DepartureRule(StrEnum):
    SCHEDULED = "scheduled"
    WHEN_LOADED = "when_loaded"


class Vessel(_Record):
    """A vessel on a service and how it decides to sail: on time, or when loaded (or after a wait)."""

    id: Id
    name: str = Field(min_length=1)
    service: Id
    rule: DepartureRule
    load_factor: float | None = Field(default=None, gt=0, le=1)
    max_wait_h: float | None = Field(default=None, gt=0, le=24 * 30)
    source: SourceRefs

    @model_validator(mode="after")
    def _rule(self) -> Vessel:
        loaded = self.rule is DepartureRule.WHEN_LOADED
        if loaded and (self.load_factor is None or self.max_wait_h is None):
            raise ValueError("rule: 'when_loaded' needs load_factor and max_wait_h")
        if not loaded and (self.load_factor is not None or self.max_wait_h is not None):
            raise ValueError("rule: a 'scheduled' vessel takes no load_factor or max_wait_h")
        return self


class CrossingCapacity(_Record):
    """Daily capacity of a border crossing per mode; road lanes decide whether an e-queue can exist."""

    crossing: Id
    trains_per_day: int = Field(ge=0, le=500)
    road_lanes: int = Field(ge=0, le=100)
    trucks_per_hour: int = Field(ge=0, le=1000)
    equeue: bool = False
    source: SourceRefs

    @model_validator(mode="after")
    def _road(self) -> CrossingCapacity:
        if self.road_lanes == 0 and self.trucks_per_hour:
            raise ValueError("trucks_per_hour: a crossing without road lanes passes no trucks")
        if self.road_lanes and not self.trucks_per_hour:
            raise ValueError("trucks_per_hour: a crossing with road lanes needs its truck rate")
        if self.equeue and not self.road_lanes:
            raise ValueError("equeue: an electronic queue needs a road lane")
        return self


class PortCapacity(_Record):
    """Handling capacity of a port per day and its yard, where cargo waits for a sailing."""

    node: Id
    handling_teu_day: float = Field(gt=0, le=1_000_000)
    handling_wagons_day: float = Field(gt=0, le=100_000)
    yard_teu: float = Field(gt=0, le=10_000_000)
    source: SourceRefs
