"""Time-dependent multi-criteria label setting over the real schedules, on two clocks.

Labels are settled in order of time. A label is the state of the consignment at a node: when it is
there, what it cost and emitted so far, how many vehicles it has boarded, and which vehicle it is
in. The vehicle matters: a consignment still on a 1520 mm train can run on without a stop, while
one that came off a ferry must first be transshipped (a buffer time at the port). Labels are
therefore only compared with labels in the same vehicle state at the same node (and at the same
progress through the required ``via`` nodes); comparing across states is the pruning that breaks
with buffer times.

Each label carries two clocks over the same path: ``t`` with every dwell at its median and ``t90``
with every dwell, ferry loading wait and storm hold at its 90th percentile. The p90 clock catches its
own departures, so a late consignment that misses the weekly ferry waits a week on that clock,
which is what makes a route unreliable. Both clocks only move forward and later never helps (FIFO),
so within a state, earlier on both clocks, cheaper and cleaner dominates.

Everything that does not depend on the query (run times, tariffs and emissions per unit of cargo,
gauges, dwell by direction) is computed once per planner, so a query only adds and compares numbers.
"""

from __future__ import annotations

import bisect
import heapq
import itertools
import math
import threading
from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta
from enum import StrEnum
from typing import Any, NamedTuple

from corridor.emissions import co2e_per_unit
from corridor.network import Crossing, Link, Mode, Network, capability
from corridor.network.model import TariffUnit
from corridor.routing.bounds import COMPILED_FROM_NODES, HopGraph, StateBound, StaticBound
from corridor.routing.closures import ClosedWindows
from corridor.routing.query import Query
from corridor.routing.rates import ChargeUnit, RateTable, shipped_rates
from corridor.routing.timetable import Pattern, Timetable


class Criterion(StrEnum):
    TIME = "time"
    P90 = "p90"
    COST = "cost"
    CO2E = "co2e"


PARETO = (Criterion.TIME, Criterion.P90, Criterion.COST, Criterion.CO2E)


@dataclass(frozen=True, slots=True)
class Step:
    """How a label was reached from its parent: one link or one ride on a scheduled trip."""

    mode: Mode
    line: str
    operator: str
    service: str | None
    from_node: str
    to_node: str
    available: float
    transfer_h: float
    depart: float
    arrive: float
    arrive90: float
    distance_km: float
    cost_usd: float
    co2e_kg: float
    links: tuple[str, ...]
    crossings: tuple[str, ...]
    boarded: bool
    transfer90_h: float = 0.0


@dataclass(frozen=True, slots=True)
class _Amounts:
    """Per-unit tariffs and emissions of a stretch; a query multiplies them by its cargo."""

    km: float = 0.0
    usd_teu: float = 0.0
    usd_wagon: float = 0.0
    usd_tonne: float = 0.0
    usd_box: float = 0.0
    usd_fixed: float = 0.0
    kg_tonne: float = 0.0
    kg_teu: float = 0.0

    def __add__(self, other: _Amounts) -> _Amounts:
        return _Amounts(
            self.km + other.km,
            self.usd_teu + other.usd_teu,
            self.usd_wagon + other.usd_wagon,
            self.usd_tonne + other.usd_tonne,
            self.usd_box + other.usd_box,
            self.usd_fixed + other.usd_fixed,
            self.kg_tonne + other.kg_tonne,
            self.kg_teu + other.kg_teu,
        )


ZERO = _Amounts()


def _fields(a: _Amounts) -> tuple[float, ...]:
    """The amounts in declaration order (km, usd_teu, usd_wagon, usd_tonne, usd_box, usd_fixed,
    kg_tonne, kg_teu), for pricing many hops at once."""
    return (a.km, a.usd_teu, a.usd_wagon, a.usd_tonne, a.usd_box, a.usd_fixed, a.kg_tonne, a.kg_teu)


def _minus(a: _Amounts, b: _Amounts) -> _Amounts:
    return _Amounts(
        a.km - b.km,
        a.usd_teu - b.usd_teu,
        a.usd_wagon - b.usd_wagon,
        a.usd_tonne - b.usd_tonne,
        a.usd_box - b.usd_box,
        a.usd_fixed - b.usd_fixed,
        a.kg_tonne - b.kg_tonne,
        a.kg_teu - b.kg_teu,
    )


@dataclass(frozen=True, slots=True)
class _LinkWay:
    """A link run in one direction by a vehicle of its own, everything precomputed."""

    link: Link
    target: str
    entry_gauge: int
    leave_gauge: int
    run_h: float  # running time plus median border dwell
    run90_h: float  # running time plus p90 border dwell
    border: str | None
    amounts: _Amounts
    mode: Mode
    vmode: str  # the mode's value, compared with Label.vmode
    gauge_bound: bool
    timetabled: bool  # leaves at the link's headway (a train), not when ready (a truck)
    dangerous_goods: bool


class _LinkMove(NamedTuple):
    way: _LinkWay
    transfer: float
    depart: float
    boarded: bool
    transfer90: float


class _TripMove(NamedTuple):
    pattern: Pattern
    trip: int
    board: int  # index of the stop where the consignment boards
    alight: int
    transfer: float
    transfer90: float


StateKey = tuple[str, str, int, bool, int]


class _PatternInfo(NamedTuple):
    mode: Mode
    vmode: str
    gauges: tuple[int, ...]  # per stop: the gauge of the leg arriving there (0 at the first)
    dangerous_goods: tuple[bool, ...]  # per leg


@dataclass(slots=True)
class Label:
    t: float
    t90: float
    cost: float
    co2: float
    boardings: int
    node: str
    vmode: str  # "" at the origin, else the mode of the vehicle the consignment came by
    gauge: int
    on_train: bool  # still in a vehicle that can run on (a link without a named service)
    progress: int  # how many via groups have been passed
    parent: Label | None
    how: _LinkMove | _TripMove | None  # the move from the parent; see Planner.step
    alive: bool = True

    @property
    def key(self) -> StateKey:
        return (self.node, self.vmode, self.gauge, self.on_train, self.progress)


@dataclass
class _Context:
    query: Query
    limit: float
    teu: float
    wagons: float
    tonnes: float
    boxes: float
    pareto: bool
    count_boardings: bool
    charges: dict[str, _Amounts]
    #: epsilon-dominance factor on cost and CO2e (1 + Settings.pareto_epsilon): without it the
    #: four-criteria search keeps thousands of labels that differ by a few dollars.
    slack: float = 1.0
    #: Lower bounds of the hours, dollars and kg CO2e from a node to the destination (A*).
    backward: _Backward | StaticBound | None = None
    backward_usd: _Backward | StaticBound | None = None
    backward_kg: _Backward | StaticBound | None = None
    #: Lower bounds of the hours on the p90 clock (the median clock's where none is compiled).
    backward90: _Backward | StaticBound | None = None
    #: The charges' cost for this cargo by place (filled on first use).
    charge_cost: dict[str | None, float] = field(default_factory=dict)
    #: Closed windows of the query's disruption notices (routing.closures).
    closed: ClosedWindows | None = None
    bags: dict[StateKey, list[Label]] = field(default_factory=dict)
    results: list[Label] = field(default_factory=list)
    heap: list[tuple[float, int, Label]] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)

    def cost(self, a: _Amounts) -> float:
        return (
            a.usd_teu * self.teu
            + a.usd_wagon * self.wagons
            + a.usd_tonne * self.tonnes
            + a.usd_box * self.boxes
            + a.usd_fixed
        )

    def co2(self, a: _Amounts) -> float:
        return a.kg_tonne * self.tonnes + a.kg_teu * self.teu

    def charge(self, place: str | None) -> float:
        """Cost of the charges at ``place`` (a crossing or node id) for this cargo."""
        cost = self.charge_cost.get(place)
        if cost is None:
            amounts = self.charges.get(place) if place is not None else None
            cost = self.cost(amounts) if amounts is not None else 0.0
            self.charge_cost[place] = cost
        return cost


#: Backward searches are shared by the threads of a server; one grows at a time.
_GROWING = threading.Lock()


class _Backward:
    """A Dijkstra search backwards from a destination over the fastest hop times, grown on demand.

    A settled node's value is the least hours from it to the destination if nothing ever waited: a
    lower bound on both clocks. A node not yet settled is at least the frontier away, so the
    frontier bounds it too; the forward search therefore never needs the whole network settled.
    """

    def __init__(
        self,
        reverse: Callable[[str], Iterable[tuple[str, float]]],
        destination: str,
    ) -> None:
        self.reverse = reverse
        self.settled: dict[str, float] = {}
        self.tentative: dict[str, float] = {destination: 0.0}
        self.heap: list[tuple[float, str]] = [(0.0, destination)]

    def frontier(self) -> float:
        return self.heap[0][0] if self.heap else math.inf

    def _step(self) -> None:
        hours, node = heapq.heappop(self.heap)
        if node in self.settled:
            return
        self.settled[node] = hours
        for prev, hop in self.reverse(node):
            candidate = hours + hop
            if prev not in self.settled and candidate < self.tentative.get(prev, math.inf):
                self.tentative[prev] = candidate
                heapq.heappush(self.heap, (candidate, prev))

    def settle(self, node: str) -> None:
        with _GROWING:
            while node not in self.settled and self.heap:
                self._step()

    def grow(self, hours: float) -> None:
        with _GROWING:
            while self.heap and self.heap[0][0] <= hours:
                self._step()

    def bound(self, node: str, vmode: str = "") -> float:
        value = self.settled.get(node)
        return value if value is not None else self.frontier()

    def prepare(self, origin: str) -> None:
        """Settle up to the origin and a little beyond; further nodes get the frontier."""
        self.settle(origin)
        reach = self.settled.get(origin, math.inf)
        if reach < math.inf:
            self.grow(1.2 * reach + 24.0)


class Planner:
    """Plans itineraries on one :class:`Timetable`. Reuse it: its indexes are built once."""

    def __init__(
        self,
        timetable: Timetable,
        rates: RateTable | None = None,
        *,
        compiled_bounds: bool | None = None,
    ) -> None:
        """``compiled_bounds``: take the A* bounds from SciPy's compiled Dijkstra search (default:
        on networks of :data:`~corridor.routing.bounds.COMPILED_FROM_NODES` nodes or more)."""
        self.tt = timetable
        self.net: Network = timetable.network
        self.settings = timetable.settings
        self.default_transfer_h = self.settings.default_transfer_h
        self.rates = rates if rates is not None else shipped_rates(self.net.directory)
        self._charges_by_day: dict[int, dict[str, _Amounts]] = {}
        self._rate_changes = sorted(
            {c.valid_from for c in self.rates.charges}
            | {c.valid_to + timedelta(days=1) for c in self.rates.charges}
        )
        self.country = {n.id: n.country for n in self.net.nodes.values()}
        self.transship: dict[str, Crossing] = {
            node: point
            for node in self.net.nodes
            if (point := self.net.transshipment_at(node)) is not None
        }
        self._amounts_cache: dict[tuple[str, str | None], _Amounts] = {}
        self.ways: dict[str, list[_LinkWay]] = {node: [] for node in self.net.nodes}
        for link in self.net.links.values():
            if not capability(link.mode).scheduled:
                for forward in (True, False):
                    way = self._way(link, forward)
                    self.ways[link.from_node if forward else link.to_node].append(way)
        # Reverse graph of the least hours each hop takes (no waiting, no transfer), for the
        # per-destination lower bounds of the A* search.
        fastest: dict[tuple[str, str], float] = {}
        for node, ways in self.ways.items():
            for way in ways:
                key = (node, way.target)
                fastest[key] = min(fastest.get(key, math.inf), way.run_h)
        for pattern in timetable.patterns:
            for j in range(1, len(pattern.stops)):
                key = (pattern.stops[j - 1], pattern.stops[j])
                hours = pattern.arrive[j] - pattern.depart[j - 1]
                fastest[key] = min(fastest.get(key, math.inf), hours)
        self.reverse: dict[str, list[tuple[str, float]]] = {n: [] for n in self.net.nodes}
        for (a, b), hours in fastest.items():
            self.reverse[b].append((a, hours))
        # The same hops with what each way of making them costs and emits per unit of cargo.
        options: dict[tuple[str, str], set[_Amounts]] = defaultdict(set)
        for node, ways in self.ways.items():
            for way in ways:
                options[(node, way.target)].add(way.amounts)
        self.reverse_amounts: dict[str, list[tuple[str, tuple[_Amounts, ...]]]] = {
            n: [] for n in self.net.nodes
        }
        self._bounds: dict[
            tuple[str, float, float, float, float, str, int], _Backward | StaticBound
        ] = {}
        # Per pattern: the vehicle state after each stop and the legs that refuse dangerous goods.
        self.pattern_info: dict[str, _PatternInfo] = {}
        for pattern in timetable.patterns:
            mode = pattern.service.mode
            gauged = capability(mode).gauge
            self.pattern_info[pattern.key] = _PatternInfo(
                mode,
                mode.value,
                (0, *((lk.gauge_mm or 0) if gauged else 0 for lk in pattern.links)),
                tuple(lk.dangerous_goods for lk in pattern.links),
            )
        # Cumulative amounts along each pattern: stretch k..j = cum[j] - cum[k].
        self.cumulative: dict[str, list[_Amounts]] = {}
        for pattern in timetable.patterns:
            cum = [ZERO]
            for link in pattern.links:
                cum.append(cum[-1] + self._amounts(link, pattern.service.vehicle or link.vehicle))
            self.cumulative[pattern.key] = cum
            for j in range(1, len(pattern.stops)):
                options[(pattern.stops[j - 1], pattern.stops[j])].add(_minus(cum[j], cum[j - 1]))
        for (a, b), found in options.items():
            self.reverse_amounts[b].append((a, tuple(found)))
        # On a large network every bound comes from one compiled Dijkstra search (routing.bounds).
        self.hop_graph: HopGraph | None = None
        self.state_graph: HopGraph | None = None
        self._node_index: dict[str, int] = {}
        self._option_borders: list[str | None] = []
        self._option_charges: dict[int, Any] = {}
        self._destination_states: dict[str, list[int]] = {}
        if (
            compiled_bounds
            if compiled_bounds is not None
            else len(self.net.nodes) >= COMPILED_FROM_NODES
        ):
            self._compile_bounds()

    def _compile_bounds(self) -> None:
        """Build the graphs of the compiled bounds: money and CO2e by node, and hours by node and
        the mode the consignment arrived by, with the transfer between modes and the least hold
        of a ship waiting for its load, both of which the bound by node leaves out."""
        nodes = list(self.net.nodes)
        index = self._node_index = {node: i for i, node in enumerate(nodes)}
        # Each way of making a hop: its amounts and the border it crosses (whose charges a query
        # prices for its date and cargo; see _option_charges).
        priced: dict[tuple[str, str], set[tuple[_Amounts, str | None]]] = defaultdict(set)
        for node, ways in self.ways.items():
            for way in ways:
                priced[(node, way.target)].add((way.amounts, way.border))
        for pattern in self.tt.patterns:
            cum = self.cumulative[pattern.key]
            for j in range(1, len(pattern.stops)):
                pair = (pattern.stops[j - 1], pattern.stops[j])
                priced[pair].add((_minus(cum[j], cum[j - 1]), pattern.borders[j - 1]))
        pairs = list(priced)
        ways_of = [(i, way) for i, pair in enumerate(pairs) for way in priced[pair]]
        self.hop_graph = HopGraph(
            nodes,
            [(index[a], index[b], 0.0, 0.0) for a, b in pairs],
            [(i, _fields(amounts)) for i, (amounts, _) in ways_of],
        )
        # The options in the graph's order (sorted by hop), to line their borders up with it.
        ranked = sorted(range(len(ways_of)), key=lambda k: ways_of[k][0])
        self._option_borders = [ways_of[k][1][1] for k in ranked]
        # Least hours of each hop by the mode it is made by, on the median and the p90 clock.
        least: dict[tuple[str, str, str], tuple[float, float]] = {}

        def hop(a: str, b: str, vmode: str, hours: float, hours90: float) -> None:
            key = (a, b, vmode)
            known = least.get(key)
            if known is None:
                least[key] = (hours, hours90)
            else:
                least[key] = (min(known[0], hours), min(known[1], hours90))

        for node, ways in self.ways.items():
            for way in ways:
                hop(node, way.target, way.vmode, way.run_h, way.run90_h)
        for pattern in self.tt.patterns:
            vmode = self.pattern_info[pattern.key].vmode
            held = min(pattern.hold50, default=0.0)
            held90 = min(pattern.hold90, default=0.0)
            stops, depart = pattern.stops, pattern.depart
            for k in range(len(stops) - 1):
                # A held ship is held once per boarding: from each stop to every later one. Both
                # clocks board at the median departure offsets (Timetable.next_trip).
                last = len(stops) if held90 > 0 else k + 2
                for j in range(k + 1, last):
                    hop(
                        stops[k],
                        stops[j],
                        vmode,
                        held + pattern.arrive[j] - depart[k],
                        held90 + pattern.arrive90[j] - depart[k],
                    )
        arriving: dict[str, set[str]] = {node: {""} for node in nodes}
        for _, b, vmode in least:
            arriving[b].add(vmode)
        states: list[tuple[str, str]] = [(n, m) for n in nodes for m in sorted(arriving[n])]
        at = {state: i for i, state in enumerate(states)}
        edges: list[tuple[int, int, float, float]] = []
        for (a, b, vmode), (hours, hours90) in least.items():
            target = at[(b, vmode)]
            for came in arriving[a]:
                floor, floor90 = self._transfer_floor(a, came, vmode)
                edges.append((at[(a, came)], target, floor + hours, floor90 + hours90))
        self.state_graph = HopGraph(states, edges)
        self._destination_states = {node: [at[(node, m)] for m in arriving[node]] for node in nodes}

    def _option_charges_for(self, charges: dict[str, _Amounts]) -> Any:
        """Per option of the hop graph, the per-unit amounts of the border charges it pays under
        one rate period's ``charges`` (cached per period: the table is one object per period)."""
        key = id(charges)
        found = self._option_charges.get(key)
        if found is None:
            import numpy as np  # only the compiled bounds need it

            rows = [
                _fields(charges.get(border, ZERO)) if border is not None else _fields(ZERO)
                for border in self._option_borders
            ]
            found = np.array(rows, dtype=np.float64).reshape(len(rows), len(_fields(ZERO)))
            if len(self._option_charges) >= 8:
                self._option_charges.clear()
            self._option_charges[key] = found
        return found

    def _transfer_floor(self, node: str, came: str, leave: str) -> tuple[float, float]:
        """Least (median, p90) hours between arriving at ``node`` by mode ``came`` and leaving by
        ``leave``: the transfer of :meth:`_transfer` where the modes differ, else nothing (a gauge
        change may still add time, which a lower bound may leave out)."""
        if came in ("", leave):
            return 0.0, 0.0
        point = self.transship.get(node)
        if point is None:
            return self.default_transfer_h, self.default_transfer_h
        cap = capability(Mode(leave))
        came_by_water = capability(Mode(came)).waterborne
        inbound = None if came_by_water == cap.waterborne else came_by_water
        return point.dwell_for(inbound=inbound)

    def __getstate__(self) -> dict[str, object]:
        """Pickled without the per-destination bounds, which are rebuilt on demand."""
        state = dict(self.__dict__)
        state["_bounds"] = {}
        state["_option_charges"] = {}  # keyed by the identity of this process's rate tables
        return state

    def __setstate__(self, state: dict[str, object]) -> None:
        self.__dict__.update(state)

    # -- precomputation -----------------------------------------------------------------------
    def _amounts(self, link: Link, vehicle: str | None) -> _Amounts:
        key = (link.id, vehicle)
        found = self._amounts_cache.get(key)
        if found is None:
            found = self._amounts_cache[key] = self._compute_amounts(link, vehicle)
        return found

    def _compute_amounts(self, link: Link, vehicle: str | None) -> _Amounts:
        usd = link.tariff_usd or 0.0
        unit = link.tariff_unit
        kg_tonne = kg_teu = 0.0
        if vehicle is not None:
            kg_tonne, kg_teu = co2e_per_unit(self.net.emission_factors[vehicle], link.distance_km)
        return _Amounts(
            km=link.distance_km,
            usd_teu=usd if unit in (None, TariffUnit.PER_TEU) else 0.0,
            usd_wagon=usd if unit is TariffUnit.PER_WAGON else 0.0,
            usd_tonne=usd if unit is TariffUnit.PER_TONNE else 0.0,
            kg_tonne=kg_tonne,
            kg_teu=kg_teu,
        )

    def _way(self, link: Link, forward: bool) -> _LinkWay:
        border = self.net.border_on(link.id)
        if border is not None and border.gauge_change is not None:
            a, b = border.gauge_change
            entry, leave = (a, b) if forward else (b, a)
        else:
            entry = leave = link.gauge_mm or 0
        assert link.speed_kmh is not None  # guaranteed for unscheduled modes
        run = link.distance_km / link.speed_kmh
        d50 = d90 = 0.0
        if border is not None:
            start, end = (
                (link.from_node, link.to_node) if forward else (link.to_node, link.from_node)
            )
            d50, d90 = border.dwell_for(leaving=self.country[start], entering=self.country[end])
        return _LinkWay(
            link,
            link.to_node if forward else link.from_node,
            entry,
            leave,
            run + d50,
            run + d90,
            border.id if border else None,
            self._amounts(link, link.vehicle),
            link.mode,
            link.mode.value,
            capability(link.mode).gauge,
            capability(link.mode).needs_timetable_departure,
            link.dangerous_goods,
        )

    def charges_on(self, day: date) -> dict[str, _Amounts]:
        """Charges valid on ``day`` by the crossing or node they apply to, per unit of cargo.

        The table only changes on a ``valid_from`` or the day after a ``valid_to``, so it is
        built once per period between such dates."""
        period = bisect.bisect_right(self._rate_changes, day)
        cached = self._charges_by_day.get(period)
        if cached is not None:
            return cached
        table: dict[str, _Amounts] = {}
        for charge in self.rates.charges:
            if not charge.valid_from <= day <= charge.valid_to:
                continue
            per = {
                ChargeUnit.TEU: _Amounts(usd_teu=charge.amount),
                ChargeUnit.CONTAINER: _Amounts(usd_box=charge.amount),
                ChargeUnit.WAGON: _Amounts(usd_wagon=charge.amount),
                ChargeUnit.CONSIGNMENT: _Amounts(usd_fixed=charge.amount),
            }[charge.unit]
            table[charge.at] = table.get(charge.at, ZERO) + per
        self._charges_by_day[period] = table
        return table

    # -- the search -------------------------------------------------------------------------
    def search(self, query: Query, criteria: tuple[Criterion, ...]) -> list[Label]:
        """Labels at the destination that no other one dominates on ``criteria``."""
        if criteria not in ((Criterion.TIME,), PARETO):
            raise ValueError("criteria: use (time,) or (time, p90, cost, co2e)")
        origin_t = self.tt.hours(query.ready)
        limit = min(self.tt.horizon_h, origin_t + self.settings.max_plan_days * 24)
        if query.latest_arrival is not None:
            limit = min(limit, self.tt.hours(query.latest_arrival))
        ctx = self._context(query, criteria, limit)
        if query.closures:
            ctx.closed = ClosedWindows(query.closures, self.tt.hours)
        ctx.backward = self._backward(ctx, "hours")
        if ctx.pareto:
            ctx.backward_usd = self._backward(ctx, "usd")
            ctx.backward_kg = self._backward(ctx, "kg")
            ctx.backward90 = self._backward(ctx, "hours90")
        start = Label(
            origin_t,
            origin_t,
            0.0,
            0.0,
            0,
            query.origin,
            "",
            0,
            False,
            self._advance(query, 0, query.origin),
            None,
            None,
        )
        self._offer(ctx, start)
        while ctx.heap:
            key, _, label = heapq.heappop(ctx.heap)
            if not label.alive:
                continue
            if not ctx.pareto and ctx.results and key >= ctx.results[0].t - 1e-9:
                break
            self._expand(ctx, label)
        return sorted(ctx.results, key=lambda lb: (lb.t, lb.t90, lb.cost, lb.co2))

    def _context(
        self, query: Query, criteria: tuple[Criterion, ...], limit: float = 0.0
    ) -> _Context:
        teu = query.cargo.teu
        return _Context(
            query=query,
            limit=limit,
            teu=teu,
            wagons=-(-teu // self.settings.teu_per_wagon),
            tonnes=query.cargo.mass_t,
            boxes=float(query.cargo.containers),
            pareto=criteria != (Criterion.TIME,),
            count_boardings=query.max_transfers is not None,
            charges=self.charges_on(query.ready.date()),
            slack=1.0 + self.settings.pareto_epsilon,
        )

    @staticmethod
    def _dominates(ctx: _Context, a: Label, b: Label) -> bool:
        if a.t > b.t + 1e-9:
            return False
        if ctx.pareto and (
            a.t90 > b.t90 + 1e-9
            or a.cost > b.cost * ctx.slack + 1e-6
            or a.co2 > b.co2 * ctx.slack + 1e-6
        ):
            return False
        if not ctx.pareto and a.t > b.t - 1e-9 and a.cost > b.cost + 1e-6:
            return False  # same arrival: the cheaper one wins the tie (no detours at equal time)
        return not (ctx.count_boardings and a.boardings > b.boardings)

    def _backward(self, ctx: _Context, what: str) -> _Backward | StaticBound:
        """Lower bounds to the query's destination of ``what`` (hours, usd or kg), cached per
        destination (and cargo, for money and CO2e) and grown lazily."""
        q = ctx.query
        cargo = (ctx.teu, ctx.wagons, ctx.tonnes, ctx.boxes) if what != "hours" else (0, 0, 0, 0)
        # The compiled money bound counts the border charges of the query's rate period.
        period = id(ctx.charges) if what == "usd" and self.hop_graph is not None else 0
        key = (q.destination, *cargo, what, period)
        found = self._bounds.get(key)
        if found is None:
            if len(self._bounds) >= 256:
                self._bounds.pop(next(iter(self._bounds)))
            if self.hop_graph is not None and self.state_graph is not None:
                graph = self.hop_graph
                targets = self._destination_states[q.destination]
                static: StaticBound
                if what in ("hours", "hours90"):
                    weights = (
                        self.state_graph.hours if what == "hours" else self.state_graph.hours90
                    )
                    static = StateBound(
                        self.state_graph.index, self.state_graph.distances(targets, weights)
                    )
                else:
                    per_unit = (
                        (0.0, ctx.teu, ctx.wagons, ctx.tonnes, ctx.boxes, 1.0, 0.0, 0.0)
                        if what == "usd"
                        else (0.0,) * 6 + (ctx.tonnes, ctx.teu)
                    )
                    extra = self._option_charges_for(ctx.charges) if what == "usd" else None
                    static = StaticBound(
                        graph.index,
                        graph.distances(
                            [self._node_index[q.destination]], graph.hop_minimum(per_unit, extra)
                        ),
                    )
                self._bounds[key] = static
                return static
            if what == "hours90":
                return self._backward(ctx, "hours")  # the median clock's bound holds for both
            if what == "hours":
                reverse: Callable[[str], Iterable[tuple[str, float]]] = self.reverse.__getitem__
            else:
                measure = ctx.cost if what == "usd" else ctx.co2
                table = self.reverse_amounts

                def reverse(node: str) -> Iterable[tuple[str, float]]:
                    return [(prev, min(map(measure, opts))) for prev, opts in table[node]]

            found = self._bounds[key] = _Backward(reverse, q.destination)
        found.prepare(q.origin)
        return found

    @staticmethod
    def _bound(ctx: _Context, label: Label) -> float:
        """Lower bound of the hours from ``label`` to the destination (inf: it cannot get there)."""
        assert ctx.backward is not None
        return ctx.backward.bound(label.node, label.vmode)

    def _offer(self, ctx: _Context, label: Label) -> None:
        q = ctx.query
        if label.boardings > self.settings.max_boardings:
            return
        if q.max_transfers is not None and label.boardings > q.max_transfers + 1:
            return
        at_goal = label.node == q.destination and label.progress == len(q.via)
        bounded = not at_goal and label.progress == len(q.via)
        ahead = self._bound(ctx, label) if bounded else 0.0
        if ahead == math.inf:
            return  # the destination cannot be reached from here at all
        # Target pruning: a result already beats every way this label could still go.
        t, t90 = label.t + ahead, label.t90 + ahead
        if bounded and ctx.backward90 is not None:
            t90 = label.t90 + ctx.backward90.bound(label.node, label.vmode)
        cost, co2 = label.cost, label.co2
        if ctx.pareto and ctx.results and not at_goal:
            assert ctx.backward_usd is not None
            assert ctx.backward_kg is not None
            cost += ctx.backward_usd.bound(label.node)
            co2 += ctx.backward_kg.bound(label.node)
        for r in ctx.results:
            if r.t > t + 1e-9:
                continue
            if ctx.pareto:
                if r.t90 > t90 + 1e-9 or r.cost > cost * ctx.slack + 1e-6:
                    continue
                if r.co2 > co2 * ctx.slack + 1e-6:
                    continue
            elif r.t > t - 1e-9 and r.cost > label.cost + 1e-6:
                continue
            if ctx.count_boardings and r.boardings > label.boardings:
                continue
            return
        bag = ctx.results if at_goal else ctx.bags.setdefault(label.key, [])
        for other in bag:
            if self._dominates(ctx, other, label):
                return
        survivors = []
        for other in bag:
            if self._dominates(ctx, label, other):
                other.alive = False
            else:
                survivors.append(other)
        survivors.append(label)
        bag[:] = survivors
        if not at_goal:
            heapq.heappush(ctx.heap, (label.t + ahead, next(ctx.seq), label))

    @staticmethod
    def _advance(query: Query, progress: int, node: str) -> int:
        while progress < len(query.via) and node in query.via[progress]:
            progress += 1
        return progress

    def _blocked(self, query: Query, node: str) -> bool:
        return node in query.avoid_nodes or self.country[node] in query.avoid_countries

    def _transfer(self, label: Label, mode: Mode, gauge: int) -> tuple[float, float] | None:
        """(median, p90) hours before a consignment in ``label``'s vehicle can leave by ``mode``
        (None: it cannot)."""
        if label.vmode == "":
            return 0.0, 0.0
        point = self.transship.get(label.node)
        cap = capability(mode)
        if label.vmode == mode.value and cap.gauge:
            if label.gauge == gauge:
                return 0.0, 0.0
            if point and point.gauge_change and {label.gauge, gauge} <= set(point.gauge_change):
                return point.dwell_for()
            return None
        if label.vmode == mode.value and cap.runs_on:
            return 0.0, 0.0
        if point is None:
            return self.default_transfer_h, self.default_transfer_h
        came_by_water = capability(Mode(label.vmode)).waterborne
        inbound = None if came_by_water == cap.waterborne else came_by_water
        return point.dwell_for(inbound=inbound)

    def _expand(self, ctx: _Context, label: Label) -> None:
        q = ctx.query
        if label.node == q.destination:
            return  # reached before passing every via group: no detour through the goal
        came_by = self._last_link(label)
        dg = q.cargo.dangerous_goods
        for way in self.ways[label.node]:
            if way.link is came_by or way.mode not in q.modes:
                continue  # never straight back over the link it came by (no turning at a via node)
            if (dg and not way.dangerous_goods) or self._blocked(q, way.target):
                continue
            self._ride_link(ctx, label, way)
        for pattern, index in self.tt.at_node.get(label.node, ()):
            service = pattern.service
            if service.mode not in q.modes or pattern.links[index] is came_by:
                continue
            if service.passage and service.passage in q.closed_passages:
                continue
            self._ride_trip(ctx, label, pattern, index)

    def _open_trip(
        self, ctx: _Context, pattern: Pattern, index: int, node: str, trip: int
    ) -> int | None:
        """``trip`` or the first later one whose departure from ``node`` no closed window of its
        service or port cancels (None: none in the timetable)."""
        closed = ctx.closed
        found: int | None = trip
        while closed and found is not None:
            leave = pattern.departures[found] + pattern.depart[index]
            until = closed.until("service", pattern.service.id, leave, leave) or closed.until(
                "node", node, leave, leave
            )
            if until is None:
                break
            found = self.tt.next_trip(pattern, index, max(until, leave + 1e-6), ctx.teu)
        return found

    @staticmethod
    def _closed_until(
        closed: ClosedWindows,
        link: Link,
        start: str,
        end: str,
        t0: float,
        t1: float,
        service: str | None = None,
    ) -> float | None:
        """When the first closure touching a move from ``start`` at t0 to ``end`` at t1 lifts."""
        hits = [
            closed.until("link", link.id, t0, t1),
            closed.until("node", start, t0, t0),
            closed.until("node", end, t1, t1),
        ]
        if service is not None:
            hits.append(closed.until("service", service, t0, t1))
        found = [h for h in hits if h is not None]
        return max(found) if found else None

    @staticmethod
    def _last_link(label: Label) -> Link | None:
        how = label.how
        if isinstance(how, _LinkMove):
            return how.way.link
        if isinstance(how, _TripMove):
            return how.pattern.links[how.alight - 1]
        return None

    def _handling(self, ctx: _Context, node: str) -> float:
        point = self.transship.get(node)
        return ctx.charge(node) + (ctx.charge(point.id) if point else 0.0)

    def _ride_link(self, ctx: _Context, label: Label, way: _LinkWay) -> None:
        continuing = label.vmode == way.vmode and (
            not way.gauge_bound or (label.on_train and label.gauge == way.entry_gauge)
        )
        extra = 0.0
        if continuing:
            transfer = transfer90 = 0.0
            depart, depart90 = label.t, label.t90
        else:
            times = self._transfer(label, way.mode, way.entry_gauge)
            if times is None:
                return
            transfer, transfer90 = times
            if way.timetabled:
                if ctx.teu > self.settings.generic_train_teu:
                    return  # more than a train load: see plan.split for lots
                depart = self.tt.next_generic_departure(way.link, label.t + transfer)
                depart90 = self.tt.next_generic_departure(way.link, label.t90 + transfer90)
            else:
                depart, depart90 = label.t + transfer, label.t90 + transfer90
            if label.vmode:
                extra = self._handling(ctx, label.node)
        arrive = depart + way.run_h
        if ctx.closed:
            # A closed link or end point: wait for the reopening (a train or a truck can wait).
            link = way.link
            for _ in range(8):
                until = self._closed_until(ctx.closed, link, label.node, way.target, depart, arrive)
                if until is None:
                    break
                depart = self.tt.next_generic_departure(link, until)
                arrive = depart + way.run_h
            else:
                return
            depart90 = max(depart90, depart)  # nor can the p90 clock leave before the reopening
        if arrive > ctx.limit:
            return
        # A gauge-change border moves the boxes onto another train: that counts as a boarding.
        boarded = (not continuing) + (way.entry_gauge != way.leave_gauge)
        q = ctx.query
        progress = label.progress
        if progress < len(q.via) and way.target in q.via[progress]:
            progress = self._advance(q, progress, way.target)
        self._offer(
            ctx,
            Label(
                arrive,
                depart90 + way.run90_h,
                label.cost
                + ctx.cost(way.amounts)
                + extra
                + (ctx.charge(way.border) if way.border is not None else 0.0),
                label.co2 + ctx.co2(way.amounts),
                label.boardings + boarded,
                way.target,
                way.vmode,
                way.leave_gauge,
                True,
                progress,
                label,
                _LinkMove(way, transfer, depart, not continuing, transfer90),
            ),
        )

    def _ride_trip(self, ctx: _Context, label: Label, pattern: Pattern, index: int) -> None:
        q = ctx.query
        info = self.pattern_info[pattern.key]
        times = self._transfer(label, info.mode, info.gauges[index + 1])
        if times is None:
            return
        transfer, transfer90 = times
        trip = self.tt.next_trip(pattern, index, label.t + transfer, ctx.teu)
        if trip is None:
            return
        trip = self._open_trip(ctx, pattern, index, label.node, trip)
        if trip is None:
            return
        trip90 = self.tt.next_trip(pattern, index, label.t90 + transfer90, ctx.teu)
        if trip90 is not None:
            trip90 = self._open_trip(ctx, pattern, index, label.node, trip90)
        closed = ctx.closed
        base = pattern.departures[trip] + pattern.hold50[trip]
        base90 = (
            pattern.departures[trip90] + pattern.hold90[trip90]
            if trip90 is not None
            else self.tt.horizon_h
        )
        cum = self.cumulative[pattern.key]
        start = cum[index]
        start_cost, start_co2 = ctx.cost(start), ctx.co2(start)
        progress = label.progress
        via = q.via
        dg = q.cargo.dangerous_goods
        fixed = label.cost + (self._handling(ctx, label.node) if label.vmode else 0.0)
        stops, arrive50, arrive90, borders = (
            pattern.stops,
            pattern.arrive,
            pattern.arrive90,
            pattern.borders,
        )
        boardings = label.boardings + 1
        for j in range(index + 1, len(stops)):
            stop = stops[j]
            arrive = base + arrive50[j]
            if arrive > ctx.limit or self._blocked(q, stop):
                return
            if closed and self._closed_until(
                closed,
                pattern.links[j - 1],
                stops[j - 1],
                stop,
                base + pattern.depart[j - 1],
                arrive,
                pattern.service.id,
            ):
                return  # the trip cannot go on through a closed link, port or service
            if dg and not info.dangerous_goods[j - 1]:
                return
            border = borders[j - 1]
            if border is not None:
                fixed += ctx.charge(border)
            if progress < len(via) and stop in via[progress]:
                progress = self._advance(q, progress, stop)
            stretch = cum[j]
            t90 = base90 + arrive90[j]
            self._offer(
                ctx,
                Label(
                    arrive,
                    t90 if t90 > arrive else arrive,
                    fixed + ctx.cost(stretch) - start_cost,
                    label.co2 + ctx.co2(stretch) - start_co2,
                    boardings,
                    stop,
                    info.vmode,
                    info.gauges[j],
                    False,
                    progress,
                    label,
                    _TripMove(pattern, trip, index, j, transfer, transfer90),
                ),
            )

    # -- turning labels back into steps ------------------------------------------------------
    def step(self, label: Label, query: Query) -> Step:
        """The move that produced ``label``, in full (built only for the answer)."""
        assert label.parent is not None
        assert label.how is not None
        parent = label.parent
        ctx = self._context(query, (Criterion.TIME,))
        how = label.how
        cost = label.cost - parent.cost
        if isinstance(how, _LinkMove):
            way, link = how.way, how.way.link
            return Step(
                link.mode,
                link.operator,
                link.operator,
                None,
                parent.node,
                way.target,
                parent.t,
                how.transfer,
                how.depart,
                label.t,
                label.t90,
                link.distance_km,
                cost,
                ctx.co2(way.amounts),
                (link.id,),
                (way.border,) if way.border else (),
                how.boarded,
                how.transfer90,
            )
        pattern, board, alight = how.pattern, how.board, how.alight
        cum = self.cumulative[pattern.key]
        stretch = pattern.links[board:alight]
        service = pattern.service
        block = self.tt.block_train(pattern, how.trip, query.cargo.teu)
        return Step(
            service.mode,
            f"{service.name} (block train)" if block else service.name,
            service.operator,
            service.id,
            parent.node,
            label.node,
            parent.t,
            how.transfer,
            pattern.departures[how.trip] + pattern.hold50[how.trip] + pattern.depart[board],
            label.t,
            label.t90,
            cum[alight].km - cum[board].km,
            cost,
            ctx.co2(cum[alight]) - ctx.co2(cum[board]),
            tuple(lk.id for lk in stretch),
            tuple(b for b in pattern.borders[board:alight] if b),
            True,
            how.transfer90,
        )
