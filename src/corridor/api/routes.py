"""Route planning over HTTP: the planner of corridor.routing, unchanged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.api.notices import active_closures
from corridor.api.schemas import CorridorOption, RouteRequest, RouteResponse
from corridor.disruptions import Notice, affected_legs
from corridor.network import Network
from corridor.routing import (
    Cargo,
    Itinerary,
    Query,
    RoutingError,
    best,
    compare,
    make_query,
    pareto,
    planner_for,
    resolve_place,
)
from corridor.routing.closures import Closure

router = APIRouter(tags=["routes"])


def build_query(network: Network, request: RouteRequest) -> Query:
    fields: dict[str, Any] = {
        "origin": request.origin,
        "destination": request.destination,
        "ready": request.ready,
        "cargo": Cargo(
            containers=request.containers,
            container_type=request.container_type,
            tonnes=request.tonnes,
            dangerous_goods=request.dangerous_goods,
        ),
        "avoid_countries": frozenset(request.avoid_countries),
        "avoid_nodes": frozenset(request.avoid_nodes),
        "max_transfers": request.max_transfers,
        "latest_arrival": request.latest_arrival,
    }
    if request.modes:
        fields["modes"] = frozenset(request.modes)
    if request.via:
        fields["via"] = tuple((resolve_place(network, place, "via"),) for place in request.via)
    if request.corridor is not None:
        corridor = network.corridors.get(request.corridor)
        if corridor is None:
            raise ApiError(422, "invalid", "corridor", f"unknown corridor {request.corridor!r}")
        fields["via"] = tuple(fields.get("via", ())) + corridor.via
        fields["avoid_countries"] = fields["avoid_countries"] | frozenset(corridor.avoid_countries)
    return make_query(network, **fields)


def plan(
    network: Network, request: RouteRequest, closures: tuple[Closure, ...] = ()
) -> tuple[Query, list[Itinerary]]:
    """Plan ``request`` round the closed windows of the notices in force (see corridor.disruptions)."""
    query = build_query(network, request).model_copy(update={"closures": closures})
    planner = planner_for(network, query)
    options = [best(planner, query, request.best)] if request.best else pareto(planner, query)
    return query, options


def _steered_round(
    network: Network, request: RouteRequest, notices: tuple[Notice, ...]
) -> list[Notice]:
    """The notices that would have hit the plan made as if nothing were closed: why it differs."""
    try:
        _, plain = plan(network, request)
    except RoutingError:
        return []
    hit = {n.id: n for it in plain for _, n in affected_legs(it, notices, network)}
    return list(hit.values())


def query_json(query: Query) -> dict[str, Any]:
    data = query.model_dump(mode="json")
    data["cargo"]["teu"] = query.cargo.teu
    return data


@router.post("/routes", response_model=RouteResponse, summary="Plan a shipment")
def plan_route(
    request: RouteRequest, s: SessionDep, network: NetworkDep, _: PrincipalDep
) -> RouteResponse:
    """The Pareto set of itineraries over arrival time, cost and CO2e (or the best by one).

    Closures announced in disruption notices are respected; ``disruptions`` lists the notices the
    plan was steered round."""
    notices, closures = active_closures(s, network)
    query, options = plan(network, request, closures)
    steered = _steered_round(network, request, notices) if closures else []
    return RouteResponse(query=query_json(query), itineraries=options, disruptions=steered)


@router.post("/routes/compare", response_model=list[CorridorOption], summary="Compare corridors")
def compare_corridors(
    request: RouteRequest, s: SessionDep, network: NetworkDep, _who: PrincipalDep
) -> list[CorridorOption]:
    """The fastest itinerary of each named corridor (null where a corridor has no route), round
    the closures of the notices in force."""
    _, closures = active_closures(s, network)
    query = build_query(network, request).model_copy(update={"closures": closures})
    return [
        CorridorOption(corridor=c.id, name=c.name, family=c.family.value, itinerary=it)
        for c, it in compare(planner_for(network, query), query)
    ]
