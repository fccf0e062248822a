"""Rail border crossings as capacity: train paths per day, and when an itinerary passes each.

A rail border crossing passes a limited number of trains a day (``crossings.csv``,
``trains_per_day``: the interchange yards, the locomotive change and the two customs posts set it,
not the track). A booked itinerary therefore takes one train path at every rail border crossing on
its way, on the day its train passes there; a day whose paths are all taken refuses the booking,
naming the crossing and the next day that still has room.

The day is estimated from the leg that crosses: the train leaves at the leg's departure and
reaches its arrival at constant speed, so it passes the border link after the share of the leg's
distance that lies before that link.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from corridor.network import Network
from corridor.routing.itinerary import Itinerary

#: Train paths one booked itinerary takes at each crossing (one block train).
PATHS_PER_BOOKING = 1
#: The unit crossing slots are counted in.
UNIT = "trains"


@dataclass(frozen=True)
class CrossingPass:
    """An itinerary's train passing a rail border crossing (estimated moment, and its UTC day)."""

    crossing: str
    name: str
    from_node: str
    to_node: str
    at: datetime

    @property
    def day(self) -> datetime:
        return day_of(self.at)


def day_of(moment: datetime) -> datetime:
    """The UTC day (midnight) ``moment`` falls on: the day a crossing's train paths belong to."""
    moment = moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
    return moment.replace(hour=0, minute=0, second=0, microsecond=0)


def crossing_key(crossing: str, day: datetime) -> str:
    """The slot of a crossing's train paths on one UTC day."""
    return f"crossing|{crossing}|{day_of(day):%Y%m%d}"


def rail_crossings(network: Network, itinerary: Itinerary) -> list[CrossingPass]:
    """Every rail border crossing the itinerary's trains pass, with the estimated moment."""
    out: list[CrossingPass] = []
    for leg in itinerary.legs:
        if leg.mode != "rail" or not leg.links:
            continue
        lengths = [max(network.links[link].distance_km, 0.0) for link in leg.links]
        total = sum(lengths)
        span = leg.arrival - leg.departure
        before = 0.0
        for link_id, km in zip(leg.links, lengths, strict=True):
            crossing = network.border_on(link_id)
            if crossing is not None:
                share = before / total if total > 0 else 0.0
                link = network.links[link_id]
                out.append(
                    CrossingPass(
                        crossing.id,
                        crossing.name,
                        link.from_node,
                        link.to_node,
                        leg.departure + timedelta(seconds=span.total_seconds() * share),
                    )
                )
            before += km
    return out
