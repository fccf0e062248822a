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

from corridor.network import Link, Network, Service

#: TEU a wagon carries when a schedule gives its capacity in wagons (one 40-ft box on a flat wagon).
TEU_PER_WAGON = 2.0
#: TEU of a train on a rail link without a named service (55 FEU, source ``nsrd-55feu``).
GENERIC_TRAIN_TEU = 110.0
#: Trains on links without a named service leave at this hour (UTC) and then every ``headway_h``.
GENERIC_FIRST_DEPARTURE_H = 6.0


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
    departures: list[float] = field(default_factory=list)  # first-stop departures, sorted


class Timetable:
    """All departures between ``start`` and ``start + days`` for one network."""

    def __init__(self, network: Network, start: datetime, days: int = 120) -> None:
        if start.tzinfo is None:
            start = start.replace(tzinfo=UTC)
        self.network = network
        self.epoch = datetime(start.year, start.month, start.day, tzinfo=UTC)
        self.horizon_h = float(days * 24)
        self.patterns: list[Pattern] = []
        self.at_node: dict[str, list[tuple[Pattern, int]]] = defaultdict(list)
        self.booked: dict[tuple[str, int], float] = {}
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
        for i, link in enumerate(links):
            if service.duration_h is not None:
                run = service.duration_h * link.distance_km / total_km
            else:
                assert link.speed_kmh is not None  # guaranteed for rail and road links
                run = link.distance_km / link.speed_kmh
                border = self.network.border_on(link.id)
                run += border.dwell_h if border else 0.0
            arrive.append(depart[-1] + run)
            last = i == len(links) - 1
            depart.append(arrive[-1] + (0.0 if last else service.stop_dwell_h))
        capacity = (
            float(service.capacity_teu)
            if service.capacity_teu is not None
            else float(service.capacity_wagons or 0) * TEU_PER_WAGON
        )
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
        )
        first = stops[0]
        times = set()
        lead_days = int(depart[-1] // 24) + 1
        day = self.epoch - timedelta(days=lead_days)
        clock = service.departure_time
        for _ in range(int(self.horizon_h // 24) + 1 + lead_days):
            if day.weekday() in service.weekdays:
                times.add(self.hours(day.replace(hour=clock.hour, minute=clock.minute)))
            day += timedelta(days=1)
        for sailing in service.sailings:
            if sailing.from_node == first:
                times.add(self.hours(sailing.departure))
        # Trips that left their first stop before the epoch still call at later stops inside it.
        earliest = -pattern.depart[-1]
        pattern.departures = sorted(t for t in times if earliest <= t <= self.horizon_h)
        return pattern

    def next_trip(self, pattern: Pattern, stop: int, ready: float, teu: float) -> int | None:
        """Index of the first departure leaving ``stop`` at or after ``ready`` with room for ``teu``."""
        offset = pattern.depart[stop]
        i = bisect.bisect_left(pattern.departures, ready - offset - 1e-9)
        while i < len(pattern.departures):
            free = pattern.capacity_teu - self.booked.get((pattern.key, i), 0.0)
            if free >= teu:
                return i
            i += 1
        return None

    def book(self, pattern_key: str, trip: int, teu: float) -> None:
        """Take ``teu`` of capacity on one departure (used by capacity booking and tests)."""
        self.booked[(pattern_key, trip)] = self.booked.get((pattern_key, trip), 0.0) + teu

    @staticmethod
    def next_generic_departure(link: Link, ready: float) -> float:
        """Next train on a rail link without a named service: every ``headway_h`` from 06:00 UTC."""
        headway = link.headway_h or 24.0
        k = max(0, math.ceil((ready - GENERIC_FIRST_DEPARTURE_H) / headway - 1e-9))
        return GENERIC_FIRST_DEPARTURE_H + k * headway
