"""Time-dependent multi-criteria label setting over the real schedules.

Labels are settled in order of time. A label is the state of the consignment at a node: when it is
there, what it cost and emitted so far, how many vehicles it has boarded, and which vehicle it is
in. The vehicle matters: a consignment still on a 1520 mm train can run on without a stop, while
one that came off a ferry must first be transshipped (a buffer time at the port). Labels are
therefore only compared with labels in the same vehicle state at the same node (and at the same
progress through the required ``via`` nodes); comparing across states is the pruning that breaks
with buffer times. Within a state, earlier, cheaper and cleaner dominates, which is sound because
waiting is always allowed and cost and CO2e never decrease along a path.

Everything that does not depend on the query (run times, tariffs and emissions per unit of
cargo, gauges) is computed once per planner, so a query only adds and compares numbers.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from enum import StrEnum
from typing import NamedTuple

from corridor.network import Crossing, CrossingKind, Link, Mode, Network
from corridor.network.model import EmissionUnit, TariffUnit
from corridor.routing.closures import ClosedWindows
from corridor.routing.query import Query
from corridor.routing.timetable import GENERIC_TRAIN_TEU, TEU_PER_WAGON, Pattern, Timetable

#: Handling time when freight changes vehicle at a node without a transshipment record (estimate).
DEFAULT_TRANSFER_H = 6.0
#: No plan looks further ahead than this after the ready time.
MAX_PLAN_DAYS = 90
#: A search never boards more vehicles than this (bounds the search like RAPTOR's rounds).
MAX_BOARDINGS = 16


class Criterion(StrEnum):
    TIME = "time"
    COST = "cost"
    CO2E = "co2e"


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
    distance_km: float
    cost_usd: float
    co2e_kg: float
    links: tuple[str, ...]
    crossings: tuple[str, ...]
    boarded: bool


@dataclass(frozen=True, slots=True)
class _Amounts:
    """Per-unit tariffs and emissions of a stretch; a query multiplies them by its cargo."""

    km: float
    usd_teu: float
    usd_wagon: float
    usd_tonne: float
    kg_tonne: float
    kg_teu: float

    def __add__(self, other: _Amounts) -> _Amounts:
        return _Amounts(
            self.km + other.km,
            self.usd_teu + other.usd_teu,
            self.usd_wagon + other.usd_wagon,
            self.usd_tonne + other.usd_tonne,
            self.kg_tonne + other.kg_tonne,
            self.kg_teu + other.kg_teu,
        )


@dataclass(frozen=True, slots=True)
class _LinkWay:
    """A link run in one direction, with everything the search needs precomputed."""

    link: Link
    target: str
    entry_gauge: int
    leave_gauge: int
    run_h: float  # running time plus border dwell
    border: str | None
    amounts: _Amounts


class _LinkMove(NamedTuple):
    way: _LinkWay
    transfer: float
    depart: float
    boarded: bool


class _TripMove(NamedTuple):
    pattern: Pattern
    trip: int
    board: int  # index of the stop where the consignment boards
    alight: int
    transfer: float


@dataclass(slots=True)
class Label:
    t: float
    cost: float
    co2: float
    boardings: int
    node: str
    vmode: str  # "" at the origin, else the mode of the vehicle the consignment came by
    gauge: int
    on_train: bool  # still on a train that can run on (rail links without a named service)
    progress: int  # how many via groups have been passed
    parent: Label | None
    how: _LinkMove | _TripMove | None  # the move from the parent; see Planner.step
    alive: bool = True

    @property
    def key(self) -> tuple[str, str, int, bool, int]:
        return (self.node, self.vmode, self.gauge, self.on_train, self.progress)


@dataclass
class _Context:
    query: Query
    limit: float
    teu: float
    wagons: float
    tonnes: float
    pareto: bool
    count_boardings: bool
    closed: ClosedWindows | None = None
    bags: dict[tuple[str, str, int, bool, int], list[Label]] = field(default_factory=dict)
    results: list[Label] = field(default_factory=list)
    heap: list[tuple[float, int, Label]] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)

    def cost(self, a: _Amounts) -> float:
        return a.usd_teu * self.teu + a.usd_wagon * self.wagons + a.usd_tonne * self.tonnes

    def co2(self, a: _Amounts) -> float:
        return a.kg_tonne * self.tonnes + a.kg_teu * self.teu


class Planner:
    """Plans itineraries on one :class:`Timetable`. Reuse it: its indexes are built once."""

    def __init__(
        self, timetable: Timetable, default_transfer_h: float = DEFAULT_TRANSFER_H
    ) -> None:
        self.tt = timetable
        self.net: Network = timetable.network
        self.default_transfer_h = default_transfer_h
        self.country = {n.id: n.country for n in self.net.nodes.values()}
        self.border: dict[str, Crossing] = {
            c.at: c for c in self.net.crossings.values() if c.kind is CrossingKind.BORDER
        }
        self.transship: dict[str, Crossing] = {
            c.at: c for c in self.net.crossings.values() if c.kind is CrossingKind.TRANSSHIPMENT
        }
        self.ways: dict[str, list[_LinkWay]] = {node: [] for node in self.net.nodes}
        for link in self.net.links.values():
            if link.mode in (Mode.RAIL, Mode.ROAD):
                for forward in (True, False):
                    way = self._way(link, forward)
                    self.ways[link.to_node if not forward else link.from_node].append(way)
        # Cumulative amounts along each pattern: stretch k..j = cum[j] - cum[k].
        self.cumulative: dict[str, list[_Amounts]] = {}
        for pattern in timetable.patterns:
            cum = [_Amounts(0, 0, 0, 0, 0, 0)]
            for link in pattern.links:
                cum.append(cum[-1] + self._amounts(link, pattern.service.vehicle or link.vehicle))
            self.cumulative[pattern.key] = cum

    # -- precomputation -----------------------------------------------------------------------
    def _amounts(self, link: Link, vehicle: str | None) -> _Amounts:
        usd = link.tariff_usd or 0.0
        unit = link.tariff_unit
        kg_tonne = kg_teu = 0.0
        if vehicle is not None:
            factor = self.net.emission_factors[vehicle]
            kg = factor.g_co2e * link.distance_km * factor.distance_factor / 1000.0
            if factor.per is EmissionUnit.TONNE_KM:
                kg_tonne = kg
            else:
                kg_teu = kg
        return _Amounts(
            km=link.distance_km,
            usd_teu=usd if unit in (None, TariffUnit.PER_TEU) else 0.0,
            usd_wagon=usd if unit is TariffUnit.PER_WAGON else 0.0,
            usd_tonne=usd if unit is TariffUnit.PER_TONNE else 0.0,
            kg_tonne=kg_tonne,
            kg_teu=kg_teu,
        )

    def _way(self, link: Link, forward: bool) -> _LinkWay:
        border = self.border.get(link.id)
        if border is not None and border.gauge_change is not None:
            a, b = border.gauge_change
            entry, leave = (a, b) if forward else (b, a)
        else:
            entry = leave = link.gauge_mm or 0
        assert link.speed_kmh is not None  # guaranteed for rail and road links
        run = link.distance_km / link.speed_kmh + (border.dwell_h if border else 0.0)
        return _LinkWay(
            link,
            link.to_node if forward else link.from_node,
            entry,
            leave,
            run,
            border.id if border else None,
            self._amounts(link, link.vehicle),
        )

    # -- the search -------------------------------------------------------------------------
    def search(self, query: Query, criteria: tuple[Criterion, ...]) -> list[Label]:
        """Labels at the destination that no other one dominates on ``criteria``."""
        origin_t = self.tt.hours(query.ready)
        limit = min(self.tt.horizon_h, origin_t + MAX_PLAN_DAYS * 24)
        if query.latest_arrival is not None:
            limit = min(limit, self.tt.hours(query.latest_arrival))
        ctx = self._context(query, criteria, limit)
        if query.closures:
            ctx.closed = ClosedWindows(query.closures, self.tt.hours)
        if ctx.pareto and set(criteria) != set(Criterion):
            raise ValueError("criteria: use (time,) or (time, cost, co2e)")
        start = Label(
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
            t, _, label = heapq.heappop(ctx.heap)
            if not label.alive:
                continue
            if not ctx.pareto and ctx.results and t >= ctx.results[0].t:
                break
            self._expand(ctx, label)
        return sorted(ctx.results, key=lambda lb: (lb.t, lb.cost, lb.co2))

    @staticmethod
    def _context(query: Query, criteria: tuple[Criterion, ...], limit: float = 0.0) -> _Context:
        teu = query.cargo.teu
        return _Context(
            query=query,
            limit=limit,
            teu=teu,
            wagons=-(-teu // TEU_PER_WAGON),
            tonnes=query.cargo.mass_t,
            pareto=criteria != (Criterion.TIME,),
            count_boardings=query.max_transfers is not None,
        )

    def _dominates(self, ctx: _Context, a: Label, b: Label) -> bool:
        if a.t > b.t + 1e-9:
            return False
        if ctx.pareto and (a.cost > b.cost + 1e-6 or a.co2 > b.co2 + 1e-6):
            return False
        if not ctx.pareto and a.t > b.t - 1e-9 and a.cost > b.cost + 1e-6:
            return False  # same arrival: the cheaper one wins the tie (no detours at equal time)
        return not (ctx.count_boardings and a.boardings > b.boardings)

    def _offer(self, ctx: _Context, label: Label) -> None:
        q = ctx.query
        if label.boardings > MAX_BOARDINGS:
            return
        if q.max_transfers is not None and label.boardings > q.max_transfers + 1:
            return
        for result in ctx.results:
            if self._dominates(ctx, result, label):
                return
        at_goal = label.node == q.destination and label.progress == len(q.via)
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
            heapq.heappush(ctx.heap, (label.t, next(ctx.seq), label))

    @staticmethod
    def _advance(query: Query, progress: int, node: str) -> int:
        while progress < len(query.via) and node in query.via[progress]:
            progress += 1
        return progress

    def _blocked(self, query: Query, node: str) -> bool:
        return node in query.avoid_nodes or self.country[node] in query.avoid_countries

    def _transfer(self, label: Label, mode: Mode, gauge: int) -> float | None:
        """Hours before a consignment in ``label``'s vehicle can leave by ``mode`` (None: it cannot)."""
        if label.vmode == "":
            return 0.0
        point = self.transship.get(label.node)
        if mode is Mode.RAIL and label.vmode == "rail":
            if label.gauge == gauge:
                return 0.0
            if point and point.gauge_change and {label.gauge, gauge} <= set(point.gauge_change):
                return point.dwell_h
            return None
        if mode is Mode.ROAD and label.vmode == "road":
            return 0.0
        return point.dwell_h if point else self.default_transfer_h

    def _expand(self, ctx: _Context, label: Label) -> None:
        q = ctx.query
        if label.node == q.destination:
            return  # reached before passing every via group: no detour through the goal
        came_by = self._last_link(label)
        for way in self.ways[label.node]:
            link = way.link
            if link.mode not in q.modes:
                continue
            if link is came_by:
                continue  # never straight back over the link it came by (no turning at a via node)
            if (q.cargo.dangerous_goods and not link.dangerous_goods) or self._blocked(
                q, way.target
            ):
                continue
            self._ride_link(ctx, label, way)
        for pattern, index in self.tt.at_node.get(label.node, ()):
            if pattern.service.mode in q.modes and pattern.links[index] is not came_by:
                self._ride_trip(ctx, label, pattern, index)

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

    def _ride_link(self, ctx: _Context, label: Label, way: _LinkWay) -> None:
        link = way.link
        road = link.mode is Mode.ROAD
        continuing = label.vmode == link.mode.value and (
            road or (label.on_train and label.gauge == way.entry_gauge)
        )
        if continuing:
            transfer, depart = 0.0, label.t
        else:
            transfer_h = self._transfer(label, link.mode, way.entry_gauge)
            if transfer_h is None:
                return
            transfer = transfer_h
            if road:
                depart = label.t + transfer
            elif ctx.teu > GENERIC_TRAIN_TEU:
                return
            else:
                depart = self.tt.next_generic_departure(link, label.t + transfer)
        arrive = depart + way.run_h
        if ctx.closed:
            # A closed link or end point: wait for the reopening (a train or a truck can wait).
            for _ in range(8):
                until = self._closed_until(ctx.closed, link, label.node, way.target, depart, arrive)
                if until is None:
                    break
                depart = until if road else self.tt.next_generic_departure(link, until)
                arrive = depart + way.run_h
            else:
                return
        if arrive > ctx.limit:
            return
        # A gauge-change border moves the boxes onto another train: that counts as a boarding.
        boarded = (not continuing) + (way.entry_gauge != way.leave_gauge)
        self._offer(
            ctx,
            Label(
                arrive,
                label.cost + ctx.cost(way.amounts),
                label.co2 + ctx.co2(way.amounts),
                label.boardings + boarded,
                way.target,
                link.mode.value,
                way.leave_gauge,
                True,
                self._advance(ctx.query, label.progress, way.target),
                label,
                _LinkMove(way, transfer, depart, not continuing),
            ),
        )

    def _ride_trip(self, ctx: _Context, label: Label, pattern: Pattern, index: int) -> None:
        q = ctx.query
        mode = pattern.service.mode
        gauge = (pattern.links[index].gauge_mm or 0) if mode is Mode.RAIL else 0
        transfer = self._transfer(label, mode, gauge)
        if transfer is None:
            return
        trip = self.tt.next_trip(pattern, index, label.t + transfer, ctx.teu)
        if trip is None:
            return
        closed = ctx.closed
        while closed:  # a departure inside a closed window of its service or its port is cancelled
            leave = pattern.departures[trip] + pattern.depart[index]
            until = closed.until("service", pattern.service.id, leave, leave) or closed.until(
                "node", label.node, leave, leave
            )
            if until is None:
                break
            trip = self.tt.next_trip(pattern, index, max(until, leave + 1e-6), ctx.teu)
            if trip is None:
                return
        base = pattern.departures[trip]
        cum = self.cumulative[pattern.key]
        start = cum[index]
        progress = label.progress
        dg = q.cargo.dangerous_goods
        for j in range(index + 1, len(pattern.stops)):
            stop = pattern.stops[j]
            arrive = base + pattern.arrive[j]
            if arrive > ctx.limit or self._blocked(q, stop):
                return
            if closed and self._closed_until(
                closed,
                pattern.links[j - 1],
                pattern.stops[j - 1],
                stop,
                base + pattern.depart[j - 1],
                arrive,
                pattern.service.id,
            ):
                return  # the trip cannot go on through a closed link, port or service
            if dg and not pattern.links[j - 1].dangerous_goods:
                return
            progress = self._advance(q, progress, stop)
            stretch = cum[j]
            cost = ctx.cost(stretch) - ctx.cost(start)
            co2 = ctx.co2(stretch) - ctx.co2(start)
            self._offer(
                ctx,
                Label(
                    arrive,
                    label.cost + cost,
                    label.co2 + co2,
                    label.boardings + 1,
                    stop,
                    mode.value,
                    (pattern.links[j - 1].gauge_mm or 0) if mode is Mode.RAIL else 0,
                    False,
                    progress,
                    label,
                    _TripMove(pattern, trip, index, j, transfer),
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
                link.distance_km,
                ctx.cost(way.amounts),
                ctx.co2(way.amounts),
                (link.id,),
                (way.border,) if way.border else (),
                how.boarded,
            )
        pattern, board, alight = how.pattern, how.board, how.alight
        cum = self.cumulative[pattern.key]
        stretch = pattern.links[board:alight]
        service = pattern.service
        return Step(
            service.mode,
            service.name,
            service.operator,
            service.id,
            parent.node,
            label.node,
            parent.t,
            how.transfer,
            pattern.departures[how.trip] + pattern.depart[board],
            label.t,
            cum[alight].km - cum[board].km,
            ctx.cost(cum[alight]) - ctx.cost(cum[board]),
            ctx.co2(cum[alight]) - ctx.co2(cum[board]),
            tuple(lk.id for lk in stretch),
            tuple(self.border[lk.id].id for lk in stretch if lk.id in self.border),
            True,
        )
