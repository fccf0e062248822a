"""The planner's public face: Pareto sets, best-by-one-criterion, corridors compared, and large
consignments split into lots."""

from __future__ import annotations

import copy
import gc
import threading
from collections import OrderedDict
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from corridor.network import Corridor, Network
from corridor.network.dataset import gc_paused
from corridor.network.geo import great_circle_km
from corridor.routing.errors import NoRouteError
from corridor.routing.itinerary import CrossingPassed, Itinerary, Leg, Lot
from corridor.routing.query import Query, with_corridor
from corridor.routing.search import PARETO, Criterion, Label, Planner, Step
from corridor.routing.timetable import Timetable
from corridor.settings import get_settings

#: A corridor's last gateway this far past the destination (and on the way to it) is overshot.
OVERSHOOT_KM = 300.0
#: Queries share a planner whose timetable starts on a multiple of this many days.
WINDOW_STEP_DAYS = 30
#: Extra days the timetable runs past the planning limit, so the p90 clock finds departures.
P90_SLACK_DAYS = 45

_PLANNERS: dict[tuple[int, datetime], Planner] = {}


def window_start(ready: datetime) -> datetime:
    """First day of the shared timetable window that contains ``ready``."""
    day = (ready.astimezone(UTC) - timedelta(days=1)).date()
    ordinal = day.toordinal() - day.toordinal() % WINDOW_STEP_DAYS
    return datetime.fromordinal(ordinal).replace(tzinfo=UTC)


def window_days() -> int:
    return WINDOW_STEP_DAYS + get_settings().max_plan_days + P90_SLACK_DAYS


def build_planner(network: Network, ready: datetime) -> Planner:
    """A new planner whose timetable covers every query ready in the window of ``ready``.

    The build allocates hundreds of thousands of small objects that all stay alive; the cyclic
    garbage collector would rescan them again and again (most of the build time on a network 100
    times the corridor), so it is paused for the build."""
    with gc_paused():
        planner = Planner(Timetable(network, window_start(ready), days=window_days()))
    gc.freeze()  # what exists now lives as long as the process: later collections skip it
    return planner


def planner_for(network: Network, query: Query) -> Planner:
    """The process's planner for the query's window, built on first use and then reused.

    Building the timetable is the expensive part of planning; a server answers many queries on
    one network, so it keeps one planner per network and 30-day window (the two most recent).
    """
    key = (id(network), window_start(query.ready))
    planner = _PLANNERS.get(key)
    if planner is None or planner.net is not network:
        planner = build_planner(network, query.ready)
        if len(_PLANNERS) >= 4:
            _PLANNERS.pop(next(iter(_PLANNERS)))
        _PLANNERS[key] = planner
    return planner


def pareto(planner: Planner, query: Query) -> list[Itinerary]:
    """Every itinerary that no other beats on typical arrival, p90 arrival, cost and CO2e at once."""
    labels = planner.search(query, PARETO)
    if not labels:
        raise _no_route(planner, query)
    return [to_itinerary(planner, query, label) for label in labels]


def best(planner: Planner, query: Query, criterion: Criterion = Criterion.TIME) -> Itinerary:
    """The single best itinerary by one criterion (ties broken by time, then cost)."""
    if criterion is Criterion.TIME:
        labels = planner.search(query, (Criterion.TIME,))
        if not labels:
            raise _no_route(planner, query)
        return to_itinerary(planner, query, min(labels, key=lambda lb: (lb.t, lb.cost, lb.co2)))
    options = pareto(planner, query)
    if criterion is Criterion.P90:
        return min(options, key=lambda it: (it.arrival_p90 or it.arrival, it.arrival, it.cost_usd))
    if criterion is Criterion.COST:
        return min(options, key=lambda it: (it.cost_usd, it.arrival, it.co2e_kg))
    return min(options, key=lambda it: (it.co2e_kg, it.arrival, it.cost_usd))


# -- large consignments ----------------------------------------------------------------------------
#: Answers remembered per process (see :func:`plan`).
PLAN_MEMO_SIZE = 512
_ANSWERS: OrderedDict[tuple[int, str, str], tuple[Planner, list[Itinerary]]] = OrderedDict()
_ANSWERS_LOCK = threading.Lock()


def plan(planner: Planner, query: Query, criterion: Criterion | None = None) -> list[Itinerary]:
    """The answer to a route request: the Pareto set, or the best by ``criterion``.

    A consignment that no single departure can take is split into lots (see :func:`split`); the
    answer is then the one split plan, which names its lots.

    The answer depends on nothing but the planner (its network and timetable, which never change
    once built: a new network gets a new planner) and the query, closures included. So a server
    that is asked the same route again and again (every booking re-plans its request) answers from
    a memo of the last :data:`PLAN_MEMO_SIZE` answers, keyed by the planner and the whole query.
    Capacity is not part of a plan: what is left on a departure is checked when it is held.
    Refusals (no route) are not remembered. The itineraries are shared: callers must not change
    them (they are dumped or copied, never edited in place).
    """
    key = (id(planner), query.model_dump_json(), criterion.value if criterion else "")
    with _ANSWERS_LOCK:
        found = _ANSWERS.get(key)
        if found is not None and found[0] is planner:
            _ANSWERS.move_to_end(key)
            return list(found[1])
    answer = _plan(planner, query, criterion)
    with _ANSWERS_LOCK:
        _ANSWERS[key] = (planner, answer)
        while len(_ANSWERS) > PLAN_MEMO_SIZE:
            _ANSWERS.popitem(last=False)
    return list(answer)


def _plan(planner: Planner, query: Query, criterion: Criterion | None) -> list[Itinerary]:
    try:
        return [best(planner, query, criterion)] if criterion else pareto(planner, query)
    except NoRouteError as first:
        if query.cargo.containers < 2:
            raise
        try:
            return [split(planner, query, criterion or Criterion.TIME)]
        except NoRouteError as capacity:
            one = query.model_copy(
                update={"cargo": query.cargo.model_copy(update={"containers": 1})}
            )
            try:
                best(planner, one)
            except NoRouteError:
                raise first from None  # not even one box gets through: not a capacity problem
            raise capacity from None


def split(planner: Planner, query: Query, criterion: Criterion = Criterion.TIME) -> Itinerary:
    """Plan a consignment too large for one departure as lots on successive departures.

    Tries 2, 3, ... equal lots; each lot is planned as its own query and books its room on the
    departures it takes (on a private copy of the bookings), so the next lot finds the next train
    or sailing with room. The consignment arrives with its last lot. Raises :class:`NoRouteError`
    on field ``cargo`` naming the capacity when even one container per lot cannot be placed.
    """
    containers = query.cargo.containers
    for lots in range(2, containers + 1):
        sizes = [containers // lots + (1 if i < containers % lots else 0) for i in range(lots)]
        if max(sizes) == min(sizes) and sizes[0] == containers // (lots - 1):
            continue  # the same lot size as the previous try
        # Each try books on its own copy of the timetable's bookings: the shared planner (a
        # server's, used by other requests at the same time) is never changed.
        private = _with_own_bookings(planner)
        plans: list[Itinerary] = []
        try:
            for size in sizes:
                lot_query = query.model_copy(
                    update={"cargo": query.cargo.model_copy(update={"containers": size})}
                )
                it = best(private, lot_query, criterion)
                _book(private, it, lot_query.cargo.teu)
                plans.append(it)
        except NoRouteError:
            continue
        return _combine(query, plans)
    raise NoRouteError(
        "cargo",
        f"capacity: no departure within {get_settings().max_plan_days} days has room for "
        f"{query.cargo.container_type} boxes from {query.origin} to {query.destination}, "
        f"even one lot at a time ({containers} x {query.cargo.container_type}, "
        f"{query.cargo.teu:g} TEU)",
    )


def _with_own_bookings(planner: Planner) -> Planner:
    private = copy.copy(planner)
    private.tt = copy.copy(planner.tt)
    private.tt.booked = dict(planner.tt.booked)
    return private


def _book(planner: Planner, it: Itinerary, teu: float) -> None:
    for leg in it.legs:
        if leg.service is None:
            continue
        for pattern in planner.tt.patterns:
            if pattern.service.id != leg.service or leg.from_node not in pattern.stops:
                continue
            board = pattern.stops.index(leg.from_node)
            if leg.to_node not in pattern.stops[board + 1 :]:
                continue
            for trip, t in enumerate(pattern.departures):
                start = t + pattern.hold50[trip] + pattern.depart[board]
                if abs(planner.tt.moment(start) - leg.departure) < timedelta(minutes=1):
                    if not planner.tt.block_train(pattern, trip, teu):
                        planner.tt.book(pattern.key, trip, teu)  # a block train is extra
                    break


def _line(leg: Leg) -> str:
    if leg.service is None:
        return leg.line
    return f"{leg.service} (block train)" if leg.line.endswith("(block train)") else leg.service


def _combine(query: Query, plans: list[Itinerary]) -> Itinerary:
    last = max(plans, key=lambda it: it.arrival)
    lots = tuple(
        Lot(
            containers=it.containers,
            departure=it.departure,
            arrival=it.arrival,
            arrival_p90=it.arrival_p90 or it.arrival,
            cost_usd=it.cost_usd,
            co2e_kg=it.co2e_kg,
            services=tuple(dict.fromkeys(_line(leg) for leg in it.legs)),
        )
        for it in plans
    )
    note = f"{query.cargo.containers} x {query.cargo.container_type} in {len(plans)} lots: " + (
        "; ".join(
            f"{lot.containers} leave {lot.departure:%Y-%m-%d %H:%M}"
            + (" on a block train" if any("(block train)" in s for s in lot.services) else "")
            + f" and arrive {lot.arrival:%Y-%m-%d %H:%M}"
            for lot in lots
        )
    )
    p90 = max(it.arrival_p90 or it.arrival for it in plans)
    return last.model_copy(
        update={
            "arrival_p90": p90,
            "transit_days_p90": round((p90 - query.ready).total_seconds() / 86400, 2),
            "cost_usd": round(sum(it.cost_usd for it in plans), 2),
            "co2e_kg": round(sum(it.co2e_kg for it in plans), 1),
            "lots": lots,
            "split": note,
        }
    )


# -- corridors -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class CorridorAnswer:
    """A corridor's fastest itinerary, or why the corridor is left out for this query."""

    corridor: Corridor
    itinerary: Itinerary | None
    reason: str | None = None


def corridor_reason(network: Network, corridor: Corridor, query: Query) -> str | None:
    """Why ``corridor`` does not apply to ``query`` before any search (None: it may apply)."""
    for end in (query.origin, query.destination):
        node = network.nodes[end]
        if node.country in corridor.avoid_countries:
            return f"{node.name} is in {node.country}, which this corridor avoids"
    nodes = network.nodes

    def gc(a: str, b: str) -> float:
        return great_circle_km(nodes[a].lat, nodes[a].lon, nodes[b].lat, nodes[b].lon)

    direct = gc(query.origin, query.destination)
    here, total = query.origin, 0.0
    for group in corridor.via:
        if here in group:
            continue
        gate = min(group, key=lambda n: gc(here, n))
        total += gc(here, gate)
        here = gate
    total += gc(here, query.destination)
    last = corridor.via[-1]
    if query.destination not in last:
        gate = min(last, key=lambda n: gc(query.destination, n))
        beyond = gc(query.destination, gate)
        on_the_way = gc(query.origin, query.destination) + beyond
        further = gc(query.origin, gate) > gc(query.origin, query.destination)
        if further and beyond > OVERSHOOT_KM and on_the_way <= 1.5 * gc(query.origin, gate):
            return (
                f"a detour, not a corridor route: its gateway {nodes[gate].name} lies beyond "
                f"{nodes[query.destination].name}, {beyond:,.0f} km further on"
            )
    if direct > 0 and total > get_settings().corridor_max_detour * direct + OVERSHOOT_KM:
        gates = " then ".join("|".join(g) for g in corridor.via)
        return (
            f"its gateways ({gates}) lie off the way from {nodes[query.origin].name} to "
            f"{nodes[query.destination].name}: a {total / direct:.1f}x detour, not a corridor route"
        )
    return None


def compare(planner: Planner, query: Query) -> list[CorridorAnswer]:
    """The fastest itinerary of each named corridor; a corridor that does not apply (its gateways
    lie behind the origin or beyond the destination, it avoids an end's country, or it has no
    route) comes back without an itinerary and with the reason. Never a detour."""
    rows: list[CorridorAnswer] = []
    for corridor in planner.net.corridors.values():
        reason = corridor_reason(planner.net, corridor, query)
        if reason is not None:
            rows.append(CorridorAnswer(corridor, None, reason))
            continue
        variant = with_corridor(query, corridor)
        try:
            (it,) = plan(planner, variant, Criterion.TIME)  # large consignments in lots
        except NoRouteError as exc:
            rows.append(CorridorAnswer(corridor, None, exc.reason))
            continue
        full = node_sequence(planner.net, it)
        sequence = [n for i, n in enumerate(full) if i == 0 or n != full[i - 1]]
        again = next((n for i, n in enumerate(sequence) if n in sequence[:i]), None)
        if again is not None:
            rows.append(
                CorridorAnswer(
                    corridor,
                    None,
                    f"a detour, not a corridor route: it would pass {planner.net.nodes[again].name}"
                    " twice, because the corridor's gateways lie behind the origin or beyond the "
                    "destination",
                )
            )
            continue
        rows.append(CorridorAnswer(corridor, it))
    return rows


def _no_route(planner: Planner, query: Query) -> NoRouteError:
    constraints = []
    if query.avoid_countries:
        constraints.append(f"avoiding {', '.join(sorted(query.avoid_countries))}")
    if query.via:
        constraints.append("via " + " then ".join("|".join(g) for g in query.via))
    if query.latest_arrival:
        constraints.append(f"arriving by {query.latest_arrival:%Y-%m-%d %H:%M}")
    if query.max_transfers is not None:
        constraints.append(f"with at most {query.max_transfers} transfers")
    from corridor.network import CAPABILITIES

    if set(CAPABILITIES) - query.modes:
        constraints.append("by " + ", ".join(sorted(m.value for m in query.modes)))
    if query.cargo.dangerous_goods:
        constraints.append("carrying dangerous goods")
    if query.closed_passages:
        constraints.append(f"with the {', '.join(sorted(query.closed_passages))} passage closed")
    if query.cargo.teu > planner.settings.generic_train_teu:
        constraints.append(
            f"{query.cargo.teu:g} TEU is more than one train ({planner.settings.generic_train_teu:g}"
            " TEU) or sailing takes"
        )
    detail = f" ({'; '.join(constraints)})" if constraints else ""
    return NoRouteError(
        "destination",
        f"no feasible route from {query.origin} to {query.destination} within "
        f"{planner.settings.max_plan_days} days of the ready time{detail}",
    )


# -- labels to itineraries ---------------------------------------------------------------------
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
                step.arrive90,
                prev.distance_km + step.distance_km,
                prev.cost_usd + step.cost_usd,
                prev.co2e_kg + step.co2e_kg,
                prev.links + step.links,
                prev.crossings + step.crossings,
                True,
                prev.transfer90_h,
            )
        else:
            merged.append(step)
    return merged


def _passed(planner: Planner, step: Step, came_by: str) -> list[CrossingPassed]:
    net = planner.net
    passed = []
    point = planner.transship.get(step.from_node)
    if point is not None and step.transfer_h > 0:
        passed.append(
            CrossingPassed(
                id=point.id,
                name=point.name,
                kind="transshipment",
                dwell_h=round(step.transfer_h, 2),
                dwell_p90_h=round(step.transfer90_h, 2),
            )
        )
    here = step.from_node
    for link_id in step.links:
        link = net.links[link_id]
        there = link.to_node if link.from_node == here else link.from_node
        c = net.border_on(link_id)
        if c is not None:
            d50, d90 = c.dwell_for(leaving=planner.country[here], entering=planner.country[there])
            passed.append(
                CrossingPassed(
                    id=c.id,
                    name=c.name,
                    kind="border",
                    dwell_h=round(d50, 2),
                    dwell_p90_h=round(d90, 2),
                    customs_offices=(c.office_a, c.office_b),
                )
            )
        here = there
    return passed


def to_itinerary(planner: Planner, query: Query, label: Label) -> Itinerary:
    net, tt = planner.net, planner.tt
    legs = []
    came_by = ""
    for step in _merge(_chain(planner, query, label)):
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
                arrival_p90=tt.moment(step.arrive90),
                distance_km=round(step.distance_km, 1),
                cost_usd=round(step.cost_usd, 2),
                co2e_kg=round(step.co2e_kg, 1),
                links=step.links,
                crossings=tuple(_passed(planner, step, came_by)),
            )
        )
        came_by = step.mode.value
    ready = query.ready
    arrival = tt.moment(label.t)
    arrival90 = tt.moment(label.t90)
    itinerary = Itinerary(
        origin=query.origin,
        destination=query.destination,
        ready=ready,
        departure=legs[0].departure if legs else ready,
        arrival=arrival,
        arrival_p90=arrival90,
        transit_days=round((arrival - ready).total_seconds() / 86400, 2),
        transit_days_p90=round((arrival90 - ready).total_seconds() / 86400, 2),
        cost_usd=round(label.cost, 2),
        co2e_kg=round(label.co2, 1),
        distance_km=round(sum(leg.distance_km for leg in legs), 1),
        transfers=max(0, label.boardings - 1),
        containers=query.cargo.containers,
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
