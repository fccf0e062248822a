"""Departures over a planning horizon: the scheduled services expanded into dated trips.

Times inside the planner are hours (float) since ``Timetable.epoch``: cheap to compare and add,
and converted back to datetimes only for the answer. A timetable is built once and shared by
many queries; ``book`` records capacity already taken on a departure.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from corridor.network import Link, Network, Service, capability
from corridor.settings import Settings, get_settings

#: Quantiles of the planner's two clocks: the typical (median) and the reliable (90th percentile).
P50, P90 = 0.5, 0.9


@dataclass
class Pattern:
    """One direction of one service: its stops, the link of each leg and the time offsets."""

    key: str
    service: Service
    stops: tuple[str, ...]
    links: tuple[Link, ...]
    forward: tuple[bool, ...]  # per leg: is the link run from its from_node to its to_node
    arrive: tuple[float, ...]  # hours from first departure to arrival at each stop
    depart: tuple[float, ...]  # hours from first departure to departure from each stop
    capacity_teu: float
    arrive90: tuple[float, ...] = ()  # as ``arrive`` with every border dwell at its p90
    depart90: tuple[float, ...] = ()
    borders: tuple[str | None, ...] = ()  # per leg: the border crossing on its link, if any
    departures: list[float] = field(default_factory=list)  # first-stop departures, sorted
    #: Per departure: hours the ship is held after its planned time (waiting to be loaded, storm
    #: closure), typical and at the 90th percentile.
    hold50: list[float] = field(default_factory=list)
    hold90: list[float] = field(default_factory=list)


class Timetable:
    """All departures between ``start`` and ``start + days`` for one network."""

    def __init__(
        self,
        network: Network,
        start: datetime,
        days: int = 120,
        settings: Settings | None = None,
    ) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.settings = settings or get_settings()
        self.network = network
        self.epoch = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.horizon_h = float(days * 24)
        self.patterns: list[Pattern] = []
        self.at_node: dict[str, list[tuple[Pattern, int]]] = defaultdict(list)
        self.booked: dict[tuple[str, int], float] = {}
        # Where each calendar month starts (hours from the epoch), for storm closures by month.
        self._month_starts: list[float] = []
        self._month_of: list[int] = []
        month = datetime(self.epoch.year, self.epoch.month, 1, tzinfo=UTC) - timedelta(days=400)
        month = datetime(month.year, month.month, 1, tzinfo=UTC)
        end = self.epoch + timedelta(hours=self.horizon_h + 24 * 40)
        while month <= end:
            self._month_starts.append(self.hours(month))
            self._month_of.append(month.month)
            month = (month + timedelta(days=32)).replace(day=1)
        for service in network.services.values():
            for forward in (True, False) if service.both_directions else (True,):
                pattern = self._pattern(service, forward)
                if pattern.departures:
                    self.patterns.append(pattern)
                    for index, stop in enumerate(pattern.stops[:-1]):
                        self.at_node[stop].append((pattern, index))

    def hours(self, moment: datetime) -> float:
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        return (moment - self.epoch).total_seconds() / 3600.0

    def moment(self, hours: float) -> datetime:
        return self.epoch + timedelta(hours=hours)

    def _pattern(self, service: Service, forward: bool) -> Pattern:
        stops = service.stops if forward else tuple(reversed(service.stops))
        links, directions = [], []
        for a, b in itertools.pairwise(stops):
            link = next(
                lk
                for lk in self.network.links_at(a)
                if {lk.from_node, lk.to_node} == {a, b} and lk.mode is service.mode
            )
            links.append(link)
            directions.append(link.from_node == a)
        total_km = sum(lk.distance_km for lk in links)
        arrive, depart = [0.0], [0.0]
        arrive90, depart90 = [0.0], [0.0]
        borders: list[str | None] = []
        for i, (link, a) in enumerate(zip(links, stops, strict=False)):
            border = self.network.border_on(link.id)
            borders.append(border.id if border else None)
            if service.duration_h is not None:
                run = run90 = service.duration_h * link.distance_km / total_km
            else:
                assert link.speed_kmh is not None  # guaranteed for unscheduled modes
                run = run90 = link.distance_km / link.speed_kmh
                if border is not None:
                    b = stops[i + 1]
                    d50, d90 = border.dwell_for(
                        leaving=self.network.nodes[a].country,
                        entering=self.network.nodes[b].country,
                    )
                    run, run90 = run + d50, run90 + d90
            arrive.append(depart[-1] + run)
            arrive90.append(depart90[-1] + run90)
            last = i == len(links) - 1
            depart.append(arrive[-1] + (0.0 if last else service.stop_dwell_h))
            depart90.append(arrive90[-1] + (0.0 if last else service.stop_dwell_h))
        nominal = (
            float(service.capacity_teu)
            if service.capacity_teu is not None
            else float(service.capacity_wagons or 0) * self.settings.teu_per_wagon
        )
        capacity = nominal * service.usable_capacity_share
        key = f"{service.id}:{'fwd' if forward else 'rev'}"
        pattern = Pattern(
            key,
            service,
            stops,
            tuple(links),
            tuple(directions),
            tuple(arrive),
            tuple(depart),
            capacity,
            tuple(arrive90),
            tuple(depart90),
            tuple(borders),
        )
        first = stops[0]
        times: set[float] = set()
        lead_days = int(depart[-1] // 24) + 1
        clock = service.departure_time
        clock_h = clock.hour + clock.minute / 60
        last_day = int(self.horizon_h // 24)
        epoch_weekday = self.epoch.weekday()
        for weekday in service.weekdays:
            day = -lead_days + (weekday - epoch_weekday + lead_days) % 7
            while day <= last_day:
                times.add(day * 24.0 + clock_h)
                day += 7
        for sailing in service.sailings:
            if sailing.from_node == first:
                times.add(self.hours(sailing.departure))
        # Trips that left their first stop before the epoch still call at later stops inside it.
        earliest = -pattern.depart[-1]
        pattern.departures = sorted(t for t in times if earliest <= t <= self.horizon_h)
        holds: dict[int, tuple[float, float]] = {}  # by month: (typical, p90) hours held
        for t in pattern.departures:
            month = self._month(t)
            hold = holds.get(month)
            if hold is None:
                closure = service.storm_in(month)
                storm50 = closure.delay_days(P50) * 24.0 if closure else 0.0
                storm90 = closure.delay_days(P90) * 24.0 if closure else 0.0
                hold = holds[month] = (
                    service.load_wait_p50_h + storm50,
                    service.load_wait_p90_h + storm90,
                )
            pattern.hold50.append(hold[0])
            pattern.hold90.append(hold[1])
        return pattern

    def _month(self, hours: float) -> int:
        """Calendar month of a time in the window (months start at ``self._month_starts``)."""
        return self._month_of[bisect.bisect_right(self._month_starts, hours) - 1]

    def next_trip(self, pattern: Pattern, stop: int, ready: float, teu: float) -> int | None:
        """Index of the first departure leaving ``stop`` at or after ``ready`` with room for ``teu``
        (on the scheduled vehicle, or on a block train of its own where the service runs one)."""
        offset = pattern.depart[stop]
        i = bisect.bisect_left(pattern.departures, ready - offset - 1e-9)
        while i < len(pattern.departures):
            free = pattern.capacity_teu - self.booked.get((pattern.key, i), 0.0)
            if free >= teu or self.block_train(pattern, i, teu):
                return i
            i += 1
        return None

    def block_train(self, pattern: Pattern, trip: int, teu: float) -> bool:
        """Whether ``teu`` leaves on departure ``trip`` as a block train of its own: the scheduled
        train has no room, the service runs block trains, and the cargo fills at least the
        service's minimum and at most one train."""
        minimum = pattern.service.block_train_min_teu
        if minimum is None or not minimum <= teu <= pattern.capacity_teu:
            return False
        return pattern.capacity_teu - self.booked.get((pattern.key, trip), 0.0) < teu

    def book(self, pattern_key: str, trip: int, teu: float) -> None:
        """Take ``teu`` of capacity on one departure (used by capacity booking and tests)."""
        self.booked[(pattern_key, trip)] = self.booked.get((pattern_key, trip), 0.0) + teu

    def next_generic_departure(self, link: Link, ready: float) -> float:
        """Next vehicle on a link without a named service.

        A train leaves every ``headway_h`` from ``generic_first_departure_h`` (UTC); a truck
        leaves when the cargo is ready.
        """
        if not capability(link.mode).needs_timetable_departure:
            return ready
        first = self.settings.generic_first_departure_h
        headway = link.headway_h or 24.0
        k = max(0, math.ceil((ready - first) / headway - 1e-9))
        return first + k * headway
