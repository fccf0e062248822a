"""A shipment's tracking status: planned against actual per leg, position and ETA, as typed values.

Pure: the store hands over the plan, the shipment's (non-erroneous) events in time order and the
observed dwell times; this module decides what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from corridor.network import Network
from corridor.routing import Itinerary
from corridor.routing.closures import Closure
from corridor.tracking import eta as eta_model


@dataclass(frozen=True)
class Seen:
    """One event as status needs it."""

    node: str | None
    step: str | None
    place: str | None
    time: datetime


@dataclass(frozen=True)
class Position:
    node: str
    name: str
    lat: float
    lon: float


@dataclass(frozen=True)
class LastEvent:
    time: datetime
    biz_step: str | None
    place: str | None


@dataclass(frozen=True)
class LegStatus:
    from_node: str
    to_node: str
    mode: str
    line: str
    planned_departure: datetime
    actual_departure: datetime | None
    planned_arrival: datetime
    actual_arrival: datetime | None
    delay_h: float | None


@dataclass(frozen=True)
class TrackingStatus:
    shipment_id: str
    events: int
    position: Position | None
    last_event: LastEvent | None
    planned_arrival: datetime
    eta: datetime
    slip_h: float
    basis: str
    legs: tuple[LegStatus, ...]


def legs_of(plan: Itinerary, seen: list[Seen]) -> tuple[LegStatus, ...]:
    first: dict[tuple[str, str], datetime] = {}
    for e in seen:
        if e.node and e.step:
            first.setdefault((e.node, e.step), e.time)
    out = []
    for leg in plan.legs:
        dep = first.get((leg.from_node, "departing"))
        arr = first.get((leg.to_node, "arriving"))
        out.append(
            LegStatus(
                leg.from_node,
                leg.to_node,
                leg.mode,
                leg.line,
                leg.departure,
                dep,
                leg.arrival,
                arr,
                None if arr is None else round((arr - leg.arrival).total_seconds() / 3600, 1),
            )
        )
    return tuple(out)


def nodes_of(plan: Itinerary) -> set[str]:
    return {n for leg in plan.legs for n in (leg.from_node, leg.to_node)}


def status(
    network: Network,
    shipment_id: str,
    plan: Itinerary,
    seen: list[Seen],
    dwell: dict[str, float],
    teu: float,
    closures: tuple[Closure, ...] = (),
) -> TrackingStatus:
    """The status from the events ``seen`` (time order, erroneous ones left out); the rest of the
    route is re-planned round ``closures`` (the closed windows of disruption notices)."""
    legs = legs_of(plan, seen)
    located = [e for e in seen if e.node and e.node in network.nodes]
    if not located:
        return TrackingStatus(
            shipment_id,
            len(seen),
            None,
            None,
            plan.arrival,
            plan.arrival,
            0.0,
            "no event yet: the plan",
            legs,
        )
    last = located[-1]
    estimate = eta_model.estimate(
        network, plan, last.node or plan.origin, last.step, last.time, dwell, teu, closures
    )
    node = network.nodes[estimate.position]
    return TrackingStatus(
        shipment_id=shipment_id,
        events=len(seen),
        position=Position(node.id, node.name, node.lat, node.lon),
        last_event=LastEvent(last.time, last.step, last.place),
        planned_arrival=plan.arrival,
        eta=estimate.eta,
        slip_h=round((estimate.eta - plan.arrival).total_seconds() / 3600, 1),
        basis=estimate.basis,
        legs=legs,
    )
