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
from corridor.routing import Itinerary, Query, RoutingError, build_query, compare, planner_for
from corridor.routing import plan as plan_itineraries
from corridor.routing.closures import Closure

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
            red_sea_open=request.red_sea_open,
        )
    except RoutingError as exc:
        if exc.field == "corridor":
            raise ApiError(422, "invalid", "corridor", exc.reason) from None
        raise


def plan(
    network: Network, request: RouteRequest, closures: tuple[Closure, ...] = ()
) -> tuple[Query, list[Itinerary]]:
    """Plan ``request`` round the closed windows of the notices in force (see corridor.disruptions)."""
    query = query_for(network, request).model_copy(update={"closures": closures})
    return query, plan_itineraries(planner_for(network, query), query, request.best)


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
    """The Pareto set over typical arrival, p90 arrival, cost and CO2e (or the best by one).

    Closures announced in disruption notices are respected; ``disruptions`` lists the notices the
    plan was steered round."""
    notices, closures = active_closures(s, network)
    query, options = plan(network, request, closures)
    steered = _steered_round(network, request, notices) if closures else []
    return RouteResponse(query=query_json(query), itineraries=options, disruptions=steered)


@router.post("/routes/compare", response_model=list[CorridorAnswerOut], summary="Compare corridors")
def compare_corridors(
    request: RouteRequest, s: SessionDep, network: NetworkDep, _who: PrincipalDep
) -> list[CorridorAnswerOut]:
    """The fastest itinerary of each corridor that applies, round the closures of the notices in
    force; the others with the reason they do not apply."""
    _, closures = active_closures(s, network)
    query = query_for(network, request).model_copy(update={"closures": closures})
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
