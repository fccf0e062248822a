"""The planner's public face: Pareto sets, best-by-one-criterion, and corridors compared."""

from __future__ import annotations

from datetime import timedelta

from corridor.network import Corridor, Network
from corridor.routing.errors import NoRouteError
from corridor.routing.itinerary import CrossingPassed, Itinerary, Leg
from corridor.routing.query import Query
from corridor.routing.search import MAX_PLAN_DAYS, Criterion, Label, Planner, Step
from corridor.routing.timetable import Timetable

PARETO = (Criterion.TIME, Criterion.COST, Criterion.CO2E)


def planner_for(network: Network, query: Query) -> Planner:
    """A planner whose timetable covers the query's whole planning window."""
    return Planner(Timetable(network, query.ready - timedelta(days=1), days=MAX_PLAN_DAYS + 2))


def pareto(planner: Planner, query: Query) -> list[Itinerary]:
    """Every itinerary that no other beats on arrival time, cost and CO2e at once."""
    labels = planner.search(query, PARETO)
    if not labels:
        raise _no_route(query)
    return [to_itinerary(planner, query, label) for label in labels]


def best(planner: Planner, query: Query, criterion: Criterion = Criterion.TIME) -> Itinerary:
    """The single best itinerary by one criterion (ties broken by time, then cost)."""
    if criterion is Criterion.TIME:
        labels = planner.search(query, (Criterion.TIME,))
        if not labels:
            raise _no_route(query)
        return to_itinerary(planner, query, min(labels, key=lambda lb: (lb.t, lb.cost, lb.co2)))
    options = pareto(planner, query)
    if criterion is Criterion.COST:
        return min(options, key=lambda it: (it.cost_usd, it.arrival, it.co2e_kg))
    return min(options, key=lambda it: (it.co2e_kg, it.arrival, it.cost_usd))


def compare(planner: Planner, query: Query) -> list[tuple[Corridor, Itinerary | None]]:
    """The fastest itinerary of each named corridor (None where the corridor has no route)."""
    rows: list[tuple[Corridor, Itinerary | None]] = []
    for corridor in planner.net.corridors.values():
        variant = query.model_copy(
            update={
                "via": query.via + corridor.via,
                "avoid_countries": query.avoid_countries | frozenset(corridor.avoid_countries),
            }
        )
        blocked = {planner.country[variant.origin], planner.country[variant.destination]}
        if blocked & variant.avoid_countries:
            rows.append((corridor, None))
            continue
        try:
            rows.append((corridor, best(planner, variant, Criterion.TIME)))
        except NoRouteError:
            rows.append((corridor, None))
    return rows


def _no_route(query: Query) -> NoRouteError:
    constraints = []
    if query.avoid_countries:
        constraints.append(f"avoiding {', '.join(sorted(query.avoid_countries))}")
    if query.via:
        constraints.append("via " + " then ".join("|".join(g) for g in query.via))
    if query.latest_arrival:
        constraints.append(f"arriving by {query.latest_arrival:%Y-%m-%d %H:%M}")
    if query.max_transfers is not None:
        constraints.append(f"with at most {query.max_transfers} transfers")
    if len(query.modes) < 4:
        constraints.append("by " + ", ".join(sorted(m.value for m in query.modes)))
    if query.cargo.dangerous_goods:
        constraints.append("carrying dangerous goods")
    detail = f" ({'; '.join(constraints)})" if constraints else ""
    return NoRouteError(
        "destination",
        f"no feasible route from {query.origin} to {query.destination} within "
        f"{MAX_PLAN_DAYS} days of the ready time{detail}",
    )


def _chain(planner: Planner, query: Query, label: Label) -> list[Step]:
    steps: list[Step] = []
    node: Label | None = label
    while node is not None and node.how is not None:
        steps.append(planner.step(node, query))
        node = node.parent
    return steps[::-1]


def _merge(steps: list[Step]) -> list[Step]:
    """Join consecutive links run by the same train or truck into one leg."""
    merged: list[Step] = []
    for step in steps:
        prev = merged[-1] if merged else None
        if (
            prev is not None
            and not step.boarded
            and prev.service is None
            and step.service is None
            and prev.mode is step.mode
            and prev.operator == step.operator
        ):
            merged[-1] = Step(
                prev.mode,
                prev.line,
                prev.operator,
                None,
                prev.from_node,
                step.to_node,
                prev.available,
                prev.transfer_h,
                prev.depart,
                step.arrive,
                prev.distance_km + step.distance_km,
                prev.cost_usd + step.cost_usd,
                prev.co2e_kg + step.co2e_kg,
                prev.links + step.links,
                prev.crossings + step.crossings,
                True,
            )
        else:
            merged.append(step)
    return merged


def to_itinerary(planner: Planner, query: Query, label: Label) -> Itinerary:
    net, tt = planner.net, planner.tt
    legs = []
    for step in _merge(_chain(planner, query, label)):
        passed = []
        point = planner.transship.get(step.from_node)
        if point is not None and step.transfer_h > 0:
            passed.append(
                CrossingPassed(
                    id=point.id, name=point.name, kind="transshipment", dwell_h=step.transfer_h
                )
            )
        for cid in step.crossings:
            c = net.crossings[cid]
            passed.append(
                CrossingPassed(
                    id=c.id,
                    name=c.name,
                    kind="border",
                    dwell_h=c.dwell_h,
                    customs_offices=(c.office_a, c.office_b),
                )
            )
        legs.append(
            Leg(
                mode=step.mode.value,
                line=step.line,
                operator=step.operator,
                service=step.service,
                from_node=step.from_node,
                from_name=net.nodes[step.from_node].name,
                to_node=step.to_node,
                to_name=net.nodes[step.to_node].name,
                available=tt.moment(step.available),
                transfer_h=round(step.transfer_h, 2),
                departure=tt.moment(step.depart),
                arrival=tt.moment(step.arrive),
                distance_km=round(step.distance_km, 1),
                cost_usd=round(step.cost_usd, 2),
                co2e_kg=round(step.co2e_kg, 1),
                links=step.links,
                crossings=tuple(passed),
            )
        )
    ready = query.ready
    arrival = tt.moment(label.t)
    itinerary = Itinerary(
        origin=query.origin,
        destination=query.destination,
        ready=ready,
        departure=legs[0].departure if legs else ready,
        arrival=arrival,
        transit_days=round((arrival - ready).total_seconds() / 86400, 2),
        cost_usd=round(label.cost, 2),
        co2e_kg=round(label.co2, 1),
        distance_km=round(sum(leg.distance_km for leg in legs), 1),
        transfers=max(0, label.boardings - 1),
        legs=tuple(legs),
    )
    return itinerary.model_copy(update={"corridors": matching_corridors(net, itinerary)})


def node_sequence(network: Network, itinerary: Itinerary) -> list[str]:
    """Every node the consignment passes, in order, including intermediate stops and junctions."""
    sequence: list[str] = []
    for leg in itinerary.legs:
        here = leg.from_node
        sequence.append(here)
        for link_id in leg.links:
            link = network.links[link_id]
            here = link.to_node if link.from_node == here else link.from_node
            sequence.append(here)
    return sequence


def matching_corridors(network: Network, itinerary: Itinerary) -> tuple[str, ...]:
    """Ids of the named corridors an itinerary follows (passes their via nodes in order, avoids
    their countries)."""
    sequence = node_sequence(network, itinerary)
    countries = {network.nodes[n].country for n in sequence}
    found = []
    for corridor in network.corridors.values():
        if countries & set(corridor.avoid_countries):
            continue
        position = 0
        for group in corridor.via:
            hits = [i for i, n in enumerate(sequence) if i >= position and n in group]
            if not hits:
                break
            position = hits[0]
        else:
            found.append(corridor.id)
    return tuple(found)
