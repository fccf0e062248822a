"""What the planner answers: itineraries made of legs, with time, cost and CO2e of each."""

from __future__ import annotations

from datetime import datetime

from pydantic import BaseModel, ConfigDict


class CrossingPassed(BaseModel):
    """A border or transshipment point on the way, with the customs offices that act there."""

    model_config = ConfigDict(frozen=True)

    id: str
    name: str
    kind: str
    dwell_h: float  # median
    dwell_p90_h: float | None = None
    customs_offices: tuple[str, ...] = ()


class Leg(BaseModel):
    """One stretch in one vehicle: a scheduled trip, or a train or truck on one or more links."""

    model_config = ConfigDict(frozen=True)

    mode: str
    line: str
    operator: str
    service: str | None
    from_node: str
    from_name: str
    to_node: str
    to_name: str
    available: datetime  # when the cargo was at from_node, ready to be transferred
    transfer_h: float  # transshipment, gauge change or handling before departure
    departure: datetime
    arrival: datetime
    arrival_p90: datetime | None = None  # on the p90 clock (every dwell at its 90th percentile)
    distance_km: float
    cost_usd: float
    co2e_kg: float
    links: tuple[str, ...]
    crossings: tuple[CrossingPassed, ...] = ()

    @property
    def wait_h(self) -> float:
        """Time spent waiting for the departure after the transfer (sailing or train schedule)."""
        waited = (self.departure - self.available).total_seconds() / 3600 - self.transfer_h
        return max(0.0, waited)


class Lot(BaseModel):
    """One part of a consignment split across departures."""

    model_config = ConfigDict(frozen=True)

    containers: int
    departure: datetime
    arrival: datetime
    arrival_p90: datetime
    cost_usd: float
    co2e_kg: float
    services: tuple[str, ...]


class Itinerary(BaseModel):
    """A door-to-door plan from the ready time to arrival at the destination.

    ``arrival`` is the typical (median) arrival, with every dwell at its median; ``arrival_p90``
    the arrival when every dwell, ferry loading wait and storm hold is at its 90th percentile and
    the consignment catches only the departures it can then still reach: nine shipments in ten
    arrive by then. A consignment split into ``lots`` shows the legs of its last lot.
    """

    model_config = ConfigDict(frozen=True)

    origin: str
    destination: str
    ready: datetime
    departure: datetime
    arrival: datetime
    arrival_p90: datetime | None = None  # None only in plans stored before p90 was planned
    transit_days: float
    transit_days_p90: float | None = None
    cost_usd: float
    co2e_kg: float
    distance_km: float
    transfers: int
    containers: int = 1
    legs: tuple[Leg, ...]
    corridors: tuple[str, ...] = ()
    lots: tuple[Lot, ...] = ()
    split: str | None = None

    @property
    def nodes(self) -> list[str]:
        return [self.legs[0].from_node, *(leg.to_node for leg in self.legs)] if self.legs else []
