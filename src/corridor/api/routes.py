"""Route planning over HTTP: the planner of corridor.routing, unchanged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from corridor.api.deps import NetworkDep, PrincipalDep
from corridor.api.errors import ApiError
from corridor.api.schemas import CorridorOption, RouteRequest, RouteResponse
from corridor.network import Network
from corridor.routing import (
    Cargo,
    Itinerary,
    Query,
    best,
    compare,
    make_query,
    pareto,
    planner_for,
    resolve_place,
)

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


def plan(network: Network, request: RouteRequest) -> tuple[Query, list[Itinerary]]:
    query = build_query(network, request)
    planner = planner_for(network, query)
    options = [best(planner, query, request.best)] if request.best else pareto(planner, query)
    return query, options


def query_json(query: Query) -> dict[str, Any]:
    data = query.model_dump(mode="json")
    data["cargo"]["teu"] = query.cargo.teu
    return data


@router.post("/routes", response_model=RouteResponse, summary="Plan a shipment")
def plan_route(request: RouteRequest, network: NetworkDep, _: PrincipalDep) -> RouteResponse:
    """The Pareto set of itineraries over arrival time, cost and CO2e (or the best by one)."""
    query, options = plan(network, request)
    return RouteResponse(query=query_json(query), itineraries=options)


@router.post("/routes/compare", response_model=list[CorridorOption], summary="Compare corridors")
def compare_corridors(
    request: RouteRequest, network: NetworkDep, _: PrincipalDep
) -> list[CorridorOption]:
    """The fastest itinerary of each named corridor (null where a corridor has no route)."""
    query = build_query(network, request)
    return [
        CorridorOption(corridor=c.id, name=c.name, family=c.family.value, itinerary=it)
        for c, it in compare(planner_for(network, query), query)
    ]
