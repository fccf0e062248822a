"""Route planning over HTTP: the planner of corridor.routing, unchanged."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from corridor.api.deps import NetworkDep, PrincipalDep
from corridor.api.errors import ApiError
from corridor.api.schemas import CorridorOption, RouteRequest, RouteResponse
from corridor.network import Network
from corridor.routing import Itinerary, Query, RoutingError, build_query, compare, planner_for
from corridor.routing import plan as plan_itineraries

router = APIRouter(tags=["routes"])


class CorridorAnswerOut(CorridorOption):
    """A corridor's fastest itinerary, or (itinerary null) the reason it does not apply."""

    reason: str | None = None


def query_for(network: Network, request: RouteRequest) -> Query:
    """The request as a planner query (the one routing.build_query the CLI also uses)."""
    try:
        return build_query(
            network,
            origin=request.origin,
            destination=request.destination,
            ready=request.ready,
            containers=request.containers,
            container_type=request.container_type,
            tonnes=request.tonnes,
            dangerous_goods=request.dangerous_goods,
            avoid_countries=request.avoid_countries or (),
            avoid_nodes=request.avoid_nodes or (),
            modes=[m.value for m in request.modes or ()],
            max_transfers=request.max_transfers,
            latest_arrival=request.latest_arrival,
            via=request.via or (),
            corridor=request.corridor,
        )
    except RoutingError as exc:
        if exc.field == "corridor":
            raise ApiError(422, "invalid", "corridor", exc.reason) from None
        raise


def plan(network: Network, request: RouteRequest) -> tuple[Query, list[Itinerary]]:
    query = query_for(network, request)
    return query, plan_itineraries(planner_for(network, query), query, request.best)


def query_json(query: Query) -> dict[str, Any]:
    data = query.model_dump(mode="json")
    data["cargo"]["teu"] = query.cargo.teu
    return data


@router.post("/routes", response_model=RouteResponse, summary="Plan a shipment")
def plan_route(request: RouteRequest, network: NetworkDep, _: PrincipalDep) -> RouteResponse:
    """The Pareto set over typical arrival, p90 arrival, cost and CO2e (or the best by one)."""
    query, options = plan(network, request)
    return RouteResponse(query=query_json(query), itineraries=options)


@router.post("/routes/compare", response_model=list[CorridorAnswerOut], summary="Compare corridors")
def compare_corridors(
    request: RouteRequest, network: NetworkDep, _: PrincipalDep
) -> list[CorridorAnswerOut]:
    """The fastest itinerary of each corridor that applies; the others with the reason."""
    query = query_for(network, request)
    return [
        CorridorAnswerOut(
            corridor=a.corridor.id,
            name=a.corridor.name,
            family=a.corridor.family.value,
            itinerary=a.itinerary,
            reason=a.reason,
        )
        for a in compare(planner_for(network, query), query)
    ]
