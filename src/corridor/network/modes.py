"""What each transport mode can do: the one table that search, validation, the CLI, the summary and
the map read.

Adding a mode means one member of :class:`Mode` and one row of ``CAPABILITIES`` here, plus its
data (links, services, an emission factor). Nothing else in the code names a mode: the planner asks
"is this mode scheduled?", "does the vehicle run on?", never "is this rail?".
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Mode(StrEnum):
    RAIL = "rail"
    FERRY = "ferry"
    SEA = "sea"
    ROAD = "road"


@dataclass(frozen=True, slots=True)
class MapStyle:
    """How the dashboard draws a link of the mode (Leaflet path options)."""

    color: str
    weight: float
    dash: str | None = None


@dataclass(frozen=True, slots=True)
class ModeCapability:
    """The properties of a transport mode that the code branches on.

    ``scheduled``: the mode's links can only be used on a dated departure of a service (ships);
    otherwise a vehicle may also run on a link by itself (a truck, or a train at the link's headway).
    ``gauge``: links need a track gauge, and a consignment changes vehicle where gauges differ.
    ``runs_on``: a vehicle of this mode continues through a node without a transfer.
    ``needs_timetable_departure``: an unscheduled vehicle still leaves at the link's headway (a
    train); without it the vehicle leaves as soon as the cargo is ready (a truck).
    ``waterborne``: a port between this mode and a land mode is entered "inbound" (from the water)
    or left "outbound", which is how port dwell is published (ADB CAREC CPMM).
    ``max_detour``: how many times the great-circle distance a link may be before validation calls
    it implausible.
    """

    mode: Mode
    label: str
    scheduled: bool
    gauge: bool
    runs_on: bool
    needs_timetable_departure: bool
    waterborne: bool
    max_detour: float
    style: MapStyle

    @property
    def needs_speed_and_vehicle(self) -> bool:
        """Unscheduled links are run by a vehicle of their own: they need a speed and a vehicle."""
        return not self.scheduled


CAPABILITIES: dict[Mode, ModeCapability] = {
    Mode.RAIL: ModeCapability(
        Mode.RAIL, "rail", False, True, True, True, False, 2.5, MapStyle("#7a4b22", 2.5)
    ),
    Mode.FERRY: ModeCapability(
        Mode.FERRY, "ferry", True, False, False, False, True, 2.0, MapStyle("#1565c0", 2.5, "6 5")
    ),
    Mode.SEA: ModeCapability(
        Mode.SEA, "sea", True, False, False, False, True, 3.0, MapStyle("#5fa8d3", 2.0, "2 6")
    ),
    Mode.ROAD: ModeCapability(
        Mode.ROAD, "road", False, False, True, False, False, 2.5, MapStyle("#6d6d6d", 2.0, "1 4")
    ),
}


def capability(mode: Mode) -> ModeCapability:
    """The capability row of ``mode`` (every member of Mode has one; a test checks it)."""
    return CAPABILITIES[mode]


def scheduled_modes() -> frozenset[Mode]:
    return frozenset(m for m, cap in CAPABILITIES.items() if cap.scheduled)


def mode_names() -> list[str]:
    """Mode names in table order, for help texts and error messages."""
    return [m.value for m in CAPABILITIES]
