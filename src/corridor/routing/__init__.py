"""Route planning: schedule-aware, multimodal, multi-criteria (arrival, cost, CO2e).

from corridor.network import load_network
from corridor.routing import make_query, planner_for, pareto

net = load_network()
query = make_query(net, origin="Xi'an", destination="Duisburg", ready="2026-03-03T08:00Z")
for itinerary in pareto(planner_for(net, query), query):
    print(itinerary.transit_days, itinerary.cost_usd, itinerary.co2e_kg)
"""

from corridor.routing.errors import NoRouteError, RoutingError
from corridor.routing.itinerary import CrossingPassed, Itinerary, Leg
from corridor.routing.plan import best, compare, matching_corridors, pareto, planner_for
from corridor.routing.query import Cargo, ContainerType, Query, make_query, resolve_place
from corridor.routing.search import Criterion, Planner
from corridor.routing.timetable import Timetable

__all__ = [
    "Cargo",
    "ContainerType",
    "Criterion",
    "CrossingPassed",
    "Itinerary",
    "Leg",
    "NoRouteError",
    "Planner",
    "Query",
    "RoutingError",
    "Timetable",
    "best",
    "compare",
    "make_query",
    "matching_corridors",
    "pareto",
    "planner_for",
    "resolve_place",
]
