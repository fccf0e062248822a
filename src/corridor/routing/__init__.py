"""Route planning: schedule-aware, multimodal, multi-criteria (typical and p90 arrival, cost, CO2e).

from corridor.network import load_network
from corridor.routing import make_query, planner_for, pareto

net = load_network()
query = make_query(net, origin="Xi'an", destination="Duisburg", ready="2026-03-03T08:00Z")
for itinerary in pareto(planner_for(net, query), query):
    print(itinerary.transit_days, itinerary.transit_days_p90, itinerary.cost_usd)
"""

from corridor.routing.errors import NoRouteError, RoutingError
from corridor.routing.itinerary import CrossingPassed, Itinerary, Leg, Lot
from corridor.routing.plan import (
    CorridorAnswer,
    best,
    build_planner,
    compare,
    matching_corridors,
    pareto,
    plan,
    planner_for,
    split,
)
from corridor.routing.query import (
    Cargo,
    ContainerType,
    Query,
    build_query,
    make_query,
    resolve_place,
    with_corridor,
)
from corridor.routing.rates import RateTable, RateTableError, read_rates
from corridor.routing.search import PARETO, Criterion, Planner
from corridor.routing.timetable import Timetable

__all__ = [
    "PARETO",
    "Cargo",
    "ContainerType",
    "CorridorAnswer",
    "Criterion",
    "CrossingPassed",
    "Itinerary",
    "Leg",
    "Lot",
    "NoRouteError",
    "Planner",
    "Query",
    "RateTable",
    "RateTableError",
    "RoutingError",
    "Timetable",
    "best",
    "build_planner",
    "build_query",
    "compare",
    "make_query",
    "matching_corridors",
    "pareto",
    "plan",
    "planner_for",
    "read_rates",
    "resolve_place",
    "split",
    "with_corridor",
]
