"""Dated departures of the managed services, computed the way the route planner computes them.

A booking names a departure by (service, boarding node, departure time); using the planner's own
timetable expansion guarantees that the departure of an itinerary leg and the one listed here for
booking are the same slot.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from corridor.network import Network
from corridor.routing.timetable import Pattern, Timetable


@dataclass(frozen=True)
class Departure:
    service: str
    operator: str
    mode: str
    from_node: str
    to_node: str  # the next stop
    departure: datetime
    arrival: datetime  # at the next stop
    nominal: datetime | None = None  # the timetable time, before the typical loading hold

    @property
    def scheduled(self) -> datetime:
        """The timetabled departure (what capacity overrides in sailings.csv are keyed by)."""
        return self.nominal or self.departure


def minute(moment: datetime) -> datetime:
    """Times to the minute, in UTC: the planner's float hours must key the same slot."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return (moment + timedelta(seconds=30)).replace(second=0, microsecond=0)


def slot_key(service: str, from_node: str, departure: datetime) -> str:
    return f"{service}|{from_node}|{minute(departure):%Y%m%dT%H%M}"


#: Timetables by (network, first day): built once, they serve every query of that day.
_tables: dict[tuple[int, datetime], tuple[Network, Timetable]] = {}
#: Days a cached timetable covers (longer windows build their own).
_SPAN_DAYS = 45


def _timetable(network: Network, day: datetime, days: int) -> Timetable:
    if days > _SPAN_DAYS:
        return Timetable(network, day, days)
    key = (id(network), day)
    hit = _tables.get(key)
    if hit is None or hit[0] is not network:
        if len(_tables) >= 16:
            _tables.clear()
        hit = (network, Timetable(network, day, _SPAN_DAYS))
        _tables[key] = hit
    return hit[1]


def _hold(pattern: Pattern, trip: int) -> float:
    """Typical hold of a trip before it leaves (Caspian loading and storms), as the planner uses."""
    holds = getattr(pattern, "hold50", None)
    return float(holds[trip]) if holds and trip < len(holds) else 0.0


def departures(
    network: Network,
    start: datetime,
    end: datetime,
    from_node: str | None = None,
    to_node: str | None = None,
    services: frozenset[str] | None = None,
) -> list[Departure]:
    """Departures leaving in [start, end), optionally only those from ``from_node`` that later
    call at ``to_node``, sorted by time."""
    start = minute(start)
    day = start.replace(hour=0, minute=0)
    days = max(1, (end - day).days + 2)
    table = _timetable(network, day, days)
    out: list[Departure] = []
    for pattern in table.patterns:
        service = pattern.service
        if services is not None and service.id not in services:
            continue
        for i, stop in enumerate(pattern.stops[:-1]):
            if from_node is not None and stop != from_node:
                continue
            if to_node is not None and to_node not in pattern.stops[i + 1 :]:
                continue
            for k, trip in enumerate(pattern.departures):
                hold = _hold(pattern, k)
                when = minute(table.moment(trip + hold + pattern.depart[i]))
                if start <= when < end:
                    out.append(
                        Departure(
                            service.id,
                            service.operator,
                            service.mode.value,
                            stop,
                            pattern.stops[i + 1],
                            when,
                            minute(table.moment(trip + hold + pattern.arrive[i + 1])),
                            minute(table.moment(trip + pattern.depart[i])),
                        )
                    )
    out.sort(key=lambda d: (d.departure, d.service, d.from_node))
    return out
