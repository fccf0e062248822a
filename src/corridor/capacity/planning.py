"""The route planner sees capacity: departures already taken are marked on its timetable.

The planner searches one :class:`Timetable` per query and skips a trip whose free TEU is less
than the cargo (``Timetable.next_trip``). Capacity is kept in operator units (wagons, TEU), so a
departure's *share* taken is carried over: a ferry whose 52 wagons are all held is marked full
whatever its TEU figure. A whole trip is marked (conservative for a train boarded at an
intermediate stop; exact for a ferry, which has two stops).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime

from corridor.capacity.schedule import _hold, minute
from corridor.routing.timetable import Pattern, Timetable


@dataclass(frozen=True)
class Taken:
    """The share of one departure already held or confirmed."""

    service: str
    from_node: str
    departure: datetime
    share: float  # (held + confirmed) / capacity, 0..1


def _index(
    table: Timetable, services: set[str]
) -> dict[tuple[str, str, datetime], tuple[Pattern, int]]:
    index: dict[tuple[str, str, datetime], tuple[Pattern, int]] = {}
    for pattern in table.patterns:
        if pattern.service.id not in services:
            continue
        for stop, node in enumerate(pattern.stops[:-1]):
            for trip, start in enumerate(pattern.departures):
                when = minute(table.moment(start + _hold(pattern, trip) + pattern.depart[stop]))
                index[(pattern.service.id, node, when)] = (pattern, trip)
    return index


def mark_taken(table: Timetable, taken: Iterable[Taken]) -> int:
    """Book the taken share of each departure on ``table``; returns how many were found on it."""
    rows = list(taken)
    index = _index(table, {t.service for t in rows})
    marked = 0
    for t in rows:
        hit = index.get((t.service, t.from_node, minute(t.departure)))
        if hit is None:
            continue
        pattern, trip = hit
        table.book(pattern.key, trip, max(0.0, min(1.0, t.share)) * pattern.capacity_teu)
        marked += 1
    return marked


def blocked(table: Timetable, taken: Iterable[Taken], teu: float) -> set[tuple[str, str, datetime]]:
    """Departures that cannot take ``teu`` more: those the planner skips for this cargo."""
    rows = list(taken)
    index = _index(table, {t.service for t in rows})
    out = set()
    for t in rows:
        hit = index.get((t.service, t.from_node, minute(t.departure)))
        if hit is not None and (1.0 - min(1.0, t.share)) * hit[0].capacity_teu < teu - 1e-9:
            out.add((t.service, t.from_node, minute(t.departure)))
    return out
