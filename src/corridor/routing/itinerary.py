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
    dwell_h: float
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


class Itinerary(BaseModel):
    """A door-to-door plan from the ready time to arrival at the destination."""

    model_config = ConfigDict(frozen=True)

    origin: str
    destination: str
    ready: datetime
    departure: datetime
    arrival: datetime
    transit_days: float
    cost_usd: float
    co2e_kg: float
    distance_km: float
    transfers: int
    legs: tuple[Leg, ...]
    corridors: tuple[str, ...] = ()

    @property
    def nodes(self) -> list[str]:
        return [self.legs[0].from_node, *(leg.to_node for leg in self.legs)] if self.legs else []
