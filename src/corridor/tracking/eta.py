"""Predicted arrival from the last event, the remaining schedule and the dwell times observed.

Dwell times are learned from the stored events: at each node, the median time between a
consignment's ``arriving`` and its next ``departing`` (at least ``MIN_SAMPLES`` of them), which
replaces the planning figure of the network data. The remaining journey is re-planned with the
route planner from where the consignment is, so a missed sailing moves the ETA to the next
sailing with room.
"""

from __future__ import annotations

import statistics
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from corridor.network import Network
from corridor.routing import Criterion, Itinerary, NoRouteError, best, make_query, planner_for
from corridor.routing.closures import Closure

MIN_SAMPLES = 3


@dataclass(frozen=True)
class Observation:
    key: str  # shipment or container the events belong to
    node: str
    step: str
    time: datetime


def learned_dwell(observations: Iterable[Observation]) -> dict[str, float]:
    """Median hours between arriving at and departing from each node."""
    ordered = sorted(observations, key=lambda o: (o.key, o.time))
    samples: dict[str, list[float]] = defaultdict(list)
    arrived: dict[tuple[str, str], datetime] = {}
    for o in ordered:
        if o.step == "arriving":
            arrived[(o.key, o.node)] = o.time
        elif o.step == "departing" and (o.key, o.node) in arrived:
            samples[o.node].append((o.time - arrived.pop((o.key, o.node))).total_seconds() / 3600)
    return {node: statistics.median(v) for node, v in samples.items() if len(v) >= MIN_SAMPLES}


@dataclass(frozen=True)
class Estimate:
    eta: datetime
    position: str
    basis: str  # how the estimate was made, for the people reading it


def estimate(
    network: Network,
    plan: Itinerary,
    node: str,
    step: str | None,
    when: datetime,
    dwell: dict[str, float],
    teu: float,
    closures: tuple[Closure, ...] = (),
) -> Estimate:
    """ETA of a consignment whose last event was ``step`` at ``node`` at ``when``, re-planned
    round ``closures`` (a storm notice at the next port delays the ETA at once)."""
    if node == plan.destination and step == "arriving":
        return Estimate(when, node, "arrived at the destination")
    start, ready, basis = node, when, f"last seen at {network.nodes[node].name} ({step or 'event'})"
    if step == "departing":
        leg = next((lg for lg in plan.legs if lg.from_node == node), None)
        if leg is not None:
            start = leg.to_node
            ready = when + (leg.arrival - leg.departure)
            basis += f"; on {leg.line} to {leg.to_name}, planned {(leg.arrival - leg.departure).total_seconds() / 3600:.0f} h"
            if start == plan.destination:
                return Estimate(ready, node, basis)
    hours = dwell.get(start)
    if hours is None:
        crossing = network.transshipment_at(start)
        hours = crossing.dwell_h if crossing is not None else 0.0
        basis += f"; dwell at {network.nodes[start].name} {hours:g} h (planning figure)"
    else:
        basis += f"; dwell at {network.nodes[start].name} {hours:.1f} h (observed median)"
    ready += timedelta(hours=hours)
    if start == plan.destination:
        return Estimate(ready, node, basis)
    query = make_query(
        network,
        origin=start,
        destination=plan.destination,
        ready=ready,
        cargo={"containers": max(1, round(teu)), "container_type": "20GP"},
    ).model_copy(update={"closures": closures})
    if closures:
        basis += f"; round {len(closures)} closed window(s) of disruption notices"
    try:
        remaining = best(planner_for(network, query), query, Criterion.TIME)
    except NoRouteError:
        return Estimate(plan.arrival, node, basis + "; no remaining route found: the plan is kept")
    return Estimate(
        remaining.arrival, node, basis + f"; re-planned from {network.nodes[start].name}"
    )
