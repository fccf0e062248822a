"""Time-dependent multi-criteria label setting over the real schedules.

Labels are settled in order of time. A label is the state of the consignment at a node: when it is
there, what it cost and emitted so far, how many vehicles it has boarded, and which vehicle it is
in. The vehicle matters: a consignment still on a 1520 mm train can run on without a stop, while
one that came off a ferry must first be transshipped (a buffer time at the port). Labels are
therefore only compared with labels in the same vehicle state at the same node (and at the same
progress through the required ``via`` nodes); comparing across states is the pruning that breaks
with buffer times. Within a state, earlier, cheaper and cleaner dominates, which is sound because
waiting is always allowed and cost and CO2e never decrease along a path.
"""

from __future__ import annotations

import heapq
import itertools
from dataclasses import dataclass, field
from enum import StrEnum

from corridor.emissions import leg_co2e_kg
from corridor.network import Crossing, CrossingKind, Link, Mode, Network
from corridor.network.model import TariffUnit
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
    step: Step | None
    alive: bool = True

    @property
    def key(self) -> tuple[str, str, int, bool, int]:
        return (self.node, self.vmode, self.gauge, self.on_train, self.progress)


@dataclass
class _Context:
    query: Query
    origin_t: float
    limit: float
    teu: float
    tonnes: float
    criteria: tuple[Criterion, ...]
    count_boardings: bool
    bags: dict[tuple[str, str, int, bool, int], list[Label]] = field(default_factory=dict)
    results: list[Label] = field(default_factory=list)
    heap: list[tuple[float, int, Label]] = field(default_factory=list)
    seq: itertools.count[int] = field(default_factory=itertools.count)


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
        self.generic = {
            node: [lk for lk in self.net.links_at(node) if lk.mode in (Mode.RAIL, Mode.ROAD)]
            for node in self.net.nodes
        }

    # -- the search -------------------------------------------------------------------------
    def search(self, query: Query, criteria: tuple[Criterion, ...]) -> list[Label]:
        """Labels at the destination that no other one dominates on ``criteria``."""
        origin_t = self.tt.hours(query.ready)
        limit = min(self.tt.horizon_h, origin_t + MAX_PLAN_DAYS * 24)
        if query.latest_arrival is not None:
            limit = min(limit, self.tt.hours(query.latest_arrival))
        ctx = _Context(
            query=query,
            origin_t=origin_t,
            limit=limit,
            teu=query.cargo.teu,
            tonnes=query.cargo.mass_t,
            criteria=criteria,
            count_boardings=query.max_transfers is not None,
        )
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
        time_only = criteria == (Criterion.TIME,)
        while ctx.heap:
            t, _, label = heapq.heappop(ctx.heap)
            if not label.alive:
                continue
            if time_only and ctx.results and t >= ctx.results[0].t:
                break
            self._expand(ctx, label)
        return sorted(ctx.results, key=lambda lb: (lb.t, lb.cost, lb.co2))

    def _dominates(self, ctx: _Context, a: Label, b: Label) -> bool:
        if a.t > b.t + 1e-9:
            return False
        for criterion in ctx.criteria:
            if criterion is Criterion.COST and a.cost > b.cost + 1e-6:
                return False
            if criterion is Criterion.CO2E and a.co2 > b.co2 + 1e-6:
                return False
        return not (ctx.count_boardings and a.boardings > b.boardings)

    def _offer(self, ctx: _Context, label: Label) -> None:
        if label.t > ctx.limit:
            return
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

    def _link_cost(self, link: Link, ctx: _Context) -> float:
        if link.tariff_usd is None:
            return 0.0
        if link.tariff_unit is TariffUnit.PER_WAGON:
            return link.tariff_usd * -(-ctx.teu // TEU_PER_WAGON)
        if link.tariff_unit is TariffUnit.PER_TONNE:
            return link.tariff_usd * ctx.tonnes
        return link.tariff_usd * ctx.teu

    def _co2(self, vehicle: str | None, km: float, ctx: _Context) -> float:
        if vehicle is None:
            return 0.0
        return leg_co2e_kg(self.net.emission_factors[vehicle], km, ctx.tonnes, ctx.teu)

    def _gauges(self, link: Link, forward: bool) -> tuple[int, int]:
        """Gauge on entering and on leaving a link (they differ across a gauge-change border)."""
        border = self.border.get(link.id)
        if border is not None and border.gauge_change is not None:
            a, b = border.gauge_change
            return (a, b) if forward else (b, a)
        gauge = link.gauge_mm or 0
        return gauge, gauge

    @staticmethod
    def _visited(label: Label, node: str) -> bool:
        """Has the consignment already been at ``node``? Plans never run in a loop."""
        current: Label | None = label
        while current is not None:
            if current.node == node:
                return True
            current = current.parent
        return False

    def _expand(self, ctx: _Context, label: Label) -> None:
        q = ctx.query
        if label.node == q.destination:
            return  # reached early, before passing every via group: no detour through the goal
        for link in self.generic[label.node]:
            if link.mode not in q.modes:
                continue
            if q.cargo.dangerous_goods and not link.dangerous_goods:
                continue
            forward = link.from_node == label.node
            target = link.to_node if forward else link.from_node
            if self._blocked(q, target) or self._visited(label, target):
                continue
            self._ride_link(ctx, label, link, forward, target)
        for pattern, index in self.tt.at_node.get(label.node, ()):
            if pattern.service.mode in q.modes:
                self._ride_trip(ctx, label, pattern, index)

    def _ride_link(
        self, ctx: _Context, label: Label, link: Link, forward: bool, target: str
    ) -> None:
        entry, leave = self._gauges(link, forward)
        continuing = label.vmode == link.mode.value and (
            link.mode is Mode.ROAD or (label.on_train and label.gauge == entry)
        )
        if continuing:
            transfer, depart = 0.0, label.t
        else:
            transfer_h = self._transfer(label, link.mode, entry)
            if transfer_h is None:
                return
            transfer = transfer_h
            if link.mode is Mode.RAIL:
                if ctx.teu > GENERIC_TRAIN_TEU:
                    return
                depart = self.tt.next_generic_departure(link, label.t + transfer)
            else:
                depart = label.t + transfer
        assert link.speed_kmh is not None
        border = self.border.get(link.id)
        arrive = depart + link.distance_km / link.speed_kmh + (border.dwell_h if border else 0.0)
        cost = self._link_cost(link, ctx)
        co2 = self._co2(link.vehicle, link.distance_km, ctx)
        step = Step(
            link.mode,
            link.operator,
            link.operator,
            None,
            label.node,
            target,
            label.t,
            transfer,
            depart,
            arrive,
            link.distance_km,
            cost,
            co2,
            (link.id,),
            (border.id,) if border else (),
            not continuing,
        )
        # A gauge-change border moves the boxes onto another train: that counts as a boarding.
        boarded = (not continuing) + (entry != leave)
        self._offer(
            ctx,
            Label(
                arrive,
                label.cost + cost,
                label.co2 + co2,
                label.boardings + boarded,
                target,
                link.mode.value,
                leave,
                True,
                self._advance(ctx.query, label.progress, target),
                label,
                step,
            ),
        )

    def _ride_trip(self, ctx: _Context, label: Label, pattern: Pattern, index: int) -> None:
        q = ctx.query
        mode = pattern.service.mode
        first = pattern.links[index]
        gauge = (first.gauge_mm or 0) if mode is Mode.RAIL else 0
        transfer = self._transfer(label, mode, gauge)
        if transfer is None:
            return
        trip = self.tt.next_trip(pattern, index, label.t + transfer, ctx.teu)
        if trip is None:
            return
        base = pattern.departures[trip]
        depart = base + pattern.depart[index]
        cost = co2 = km = 0.0
        progress = label.progress
        links: list[str] = []
        crossings: list[str] = []
        for j in range(index + 1, len(pattern.stops)):
            link = pattern.links[j - 1]
            stop = pattern.stops[j]
            arrive = base + pattern.arrive[j]
            if arrive > ctx.limit or self._blocked(q, stop) or self._visited(label, stop):
                return
            if q.cargo.dangerous_goods and not link.dangerous_goods:
                return
            cost += self._link_cost(link, ctx)
            co2 += self._co2(pattern.service.vehicle or link.vehicle, link.distance_km, ctx)
            km += link.distance_km
            links.append(link.id)
            border = self.border.get(link.id)
            if border is not None:
                crossings.append(border.id)
            progress = self._advance(q, progress, stop)
            step = Step(
                mode,
                pattern.service.name,
                pattern.service.operator,
                pattern.service.id,
                label.node,
                stop,
                label.t,
                transfer,
                depart,
                arrive,
                km,
                cost,
                co2,
                tuple(links),
                tuple(crossings),
                True,
            )
            self._offer(
                ctx,
                Label(
                    arrive,
                    label.cost + cost,
                    label.co2 + co2,
                    label.boardings + 1,
                    stop,
                    mode.value,
                    gauge,
                    False,
                    progress,
                    label,
                    step,
                ),
            )
