"""When a ferry that "sails when loaded" will leave: the rule per vessel, as a pure function.

Caspian ferries mostly leave when full enough rather than to a timetable (Argus; operators'
statements), so a planner that uses the nominal time promises departures that do not happen. The
rule is "sail when the load factor reaches X, or after Y hours at the latest", counted from the
nominal departure (when the vessel is ready to load). From the bookings already held we estimate
when X will be reached by extrapolating the booking rate since the sailing opened; the answer is
always flagged as an estimate, never shown as a timetable.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

#: Shortest time over which a booking rate is trusted, hours.
MIN_WINDOW_H = 24.0


class Basis(StrEnum):
    """Why the estimate says what it says."""

    SCHEDULED = "scheduled"  # a timetabled vessel: the nominal time
    LOADED = "loaded"  # the load factor is already reached: leaves as soon as it may
    BOOKING_RATE = "booking_rate"  # extrapolated from the rate bookings arrive at
    MAX_WAIT = "max_wait"  # not loaded in time: leaves at the latest allowed time


@dataclass(frozen=True)
class FerryRule:
    """``load_factor`` X in (0, 1] and ``max_wait_h`` Y; both None for a scheduled vessel."""

    load_factor: float | None = None
    max_wait_h: float | None = None

    def __post_init__(self) -> None:
        if (self.load_factor is None) != (self.max_wait_h is None):
            raise ValueError("a when-loaded rule needs both load_factor and max_wait_h")
        if self.load_factor is not None and not 0 < self.load_factor <= 1:
            raise ValueError("load_factor must lie in (0, 1]")
        if self.max_wait_h is not None and self.max_wait_h <= 0:
            raise ValueError("max_wait_h must be positive")

    @property
    def scheduled(self) -> bool:
        return self.load_factor is None


@dataclass(frozen=True)
class DepartureEstimate:
    departure: datetime
    basis: Basis
    load_factor: float  # booked / capacity now
    estimate: bool  # False only for a scheduled vessel


def estimate_departure(
    rule: FerryRule,
    nominal: datetime,
    capacity: int,
    booked: int,
    now: datetime,
    opened: datetime | None = None,
    min_window_h: float = MIN_WINDOW_H,
) -> DepartureEstimate:
    """When the sailing of ``nominal`` leaves under ``rule``, given ``booked`` of ``capacity`` now.

    ``opened`` is when the first booking for the sailing arrived; the booking rate is
    ``booked / (now - opened)``, measured over at least ``min_window_h`` (a rate seen over a few
    minutes is noise: the first booking alone would look like a full ship within the hour). Without bookings or without a rate the latest time is the answer.
    The result is never before ``nominal`` nor after ``nominal + max_wait_h``.
    """
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    factor = min(booked / capacity, 1.0) if booked > 0 else 0.0
    if rule.scheduled:
        return DepartureEstimate(nominal, Basis.SCHEDULED, factor, estimate=False)
    assert rule.load_factor is not None
    assert rule.max_wait_h is not None
    latest = nominal + timedelta(hours=rule.max_wait_h)
    if factor >= rule.load_factor - 1e-12:
        return DepartureEstimate(max(nominal, now), Basis.LOADED, factor, estimate=True)
    hours_open = (now - opened).total_seconds() / 3600 if opened is not None else 0.0
    if booked <= 0 or hours_open <= 0:
        return DepartureEstimate(max(latest, now), Basis.MAX_WAIT, factor, estimate=True)
    rate = booked / max(hours_open, min_window_h)  # units per hour
    missing = rule.load_factor * capacity - booked
    reached = now + timedelta(hours=missing / rate)
    if reached >= latest:
        return DepartureEstimate(max(latest, now), Basis.MAX_WAIT, factor, estimate=True)
    return DepartureEstimate(max(reached, nominal), Basis.BOOKING_RATE, factor, estimate=True)
