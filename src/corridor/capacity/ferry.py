"""When a ferry (or a train being formed) leaves: the one departure rule of the code base.

Caspian ferries mostly leave when full enough rather than to a timetable (Argus; operators'
statements; pem-ferries), and operators cap how long a vessel waits at the berth. So a vessel
sails when its load factor reaches X or when it has waited Y hours, whichever comes first, with X
and Y set per vessel in ``data/capacity/vessels.csv``.

Two models use the rule and both call this module, so they cannot drift apart:

* the capacity planner (:func:`estimate_departure`): from the bookings already held it estimates
  when X will be reached, by extrapolating the booking rate since the sailing opened, and caps
  the answer at the nominal departure + Y. The answer is flagged as an estimate.
* the discrete-event simulation (:func:`decide`, :func:`hours_left`): a vessel at the berth
  checks the rule whenever cargo arrives, and otherwise sleeps until Y runs out; the closed form
  (:func:`fill_time_h`, :func:`mean_load`) is what it gives under steady arrivals.

The clock of Y starts when the vessel is ready to load: at the nominal departure for a dated
sailing, at the first cargo on board in the simulation (which has no timetable for these ships).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from corridor.capacity.model import DepartureRule, Vessel

#: Shortest time over which a booking rate is trusted, hours.
MIN_WINDOW_H = 24.0
#: Tolerance of the comparisons (float loads from the simulation).
EPS = 1e-9


@dataclass(frozen=True)
class FerryRule:
    """``load_factor`` X in (0, 1] and ``max_wait_h`` Y; both None for a scheduled vessel.

    ``sail_empty``: whether a vessel that waited Y with nothing on board still sails (a ferry
    repositions); a train being formed never leaves empty.
    """

    load_factor: float | None = None
    max_wait_h: float | None = None
    sail_empty: bool = True

    def __post_init__(self) -> None:
        if (self.load_factor is None) != (self.max_wait_h is None):
            raise ValueError("a when-loaded rule needs both load_factor and max_wait_h")
        if self.load_factor is not None and not 0 < self.load_factor <= 1:
            raise ValueError("load_factor must lie in (0, 1]")
        if self.max_wait_h is not None and self.max_wait_h < 0:
            raise ValueError("max_wait_h must not be negative")

    @property
    def scheduled(self) -> bool:
        return self.load_factor is None

    @classmethod
    def of(cls, vessel: Vessel | None) -> FerryRule:
        """The rule of a vessel as ``vessels.csv`` sets it (no vessel: a scheduled service)."""
        if vessel is None or vessel.rule is not DepartureRule.WHEN_LOADED:
            return cls()
        return cls(vessel.load_factor, vessel.max_wait_h)


@dataclass(frozen=True)
class Decision:
    depart: bool
    reason: str  # "loaded" | "waited" | "waiting" | "scheduled"


def decide(load: float, capacity: float, waited_h: float, rule: FerryRule) -> Decision:
    """Whether a vessel holding ``load`` of ``capacity`` after ``waited_h`` hours sails now.

    A scheduled vessel's departure is its timetable's business: the rule always says go.
    """
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    if rule.scheduled:
        return Decision(True, "scheduled")
    assert rule.load_factor is not None
    assert rule.max_wait_h is not None
    if load >= rule.load_factor * capacity - EPS:
        return Decision(True, "loaded")
    if waited_h >= rule.max_wait_h - EPS and (load > 0 or rule.sail_empty):
        return Decision(True, "waited")
    return Decision(False, "waiting")


def hours_left(waited_h: float, rule: FerryRule) -> float:
    """Hours until the waiting limit forces a departure (0 when it already has, or scheduled)."""
    return max(0.0, (rule.max_wait_h or 0.0) - waited_h)


def fill_time_h(arrival_rate_per_h: float, capacity: float, rule: FerryRule) -> float:
    """Hours a vessel spends at the berth when cargo arrives steadily at ``arrival_rate_per_h``:
    it fills to the load factor, or the clock runs out."""
    if rule.scheduled:
        raise ValueError("a scheduled vessel does not wait to fill")
    assert rule.load_factor is not None
    assert rule.max_wait_h is not None
    if arrival_rate_per_h <= 0:
        return rule.max_wait_h
    return min(rule.load_factor * capacity / arrival_rate_per_h, rule.max_wait_h)


def mean_load(arrival_rate_per_h: float, capacity: float, rule: FerryRule) -> float:
    """Load on board at departure under steady arrivals (the other half of the closed form)."""
    return min(arrival_rate_per_h * fill_time_h(arrival_rate_per_h, capacity, rule), capacity)


class Basis(StrEnum):
    """Why the estimate says what it says."""

    SCHEDULED = "scheduled"  # a timetabled vessel: the nominal time
    LOADED = "loaded"  # the load factor is already reached: leaves as soon as it may
    BOOKING_RATE = "booking_rate"  # extrapolated from the rate bookings arrive at
    MAX_WAIT = "max_wait"  # not loaded in time: leaves at the latest allowed time


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

    :func:`decide` is asked at the berth (waited = hours since ``nominal``) and, when it says
    "waiting", at the moment the booking rate brings the load to X. ``opened`` is when the first
    booking arrived; the rate is ``booked / (now - opened)``, measured over at least
    ``min_window_h`` (a rate seen over a few minutes is noise: the first booking alone would look
    like a full ship within the hour). Without bookings or a rate the latest time is the answer.
    The result is never before ``nominal`` nor after ``nominal + max_wait_h`` (unless now is).
    """
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    factor = min(booked / capacity, 1.0) if booked > 0 else 0.0
    if rule.scheduled:
        return DepartureEstimate(nominal, Basis.SCHEDULED, factor, estimate=False)
    assert rule.load_factor is not None
    assert rule.max_wait_h is not None
    latest = nominal + timedelta(hours=rule.max_wait_h)
    waited = max(0.0, (now - nominal).total_seconds() / 3600)
    now_decision = decide(booked, capacity, waited, rule)
    if now_decision.reason == "loaded":
        return DepartureEstimate(max(nominal, now), Basis.LOADED, factor, estimate=True)
    if now_decision.depart:  # waited out already
        return DepartureEstimate(max(latest, now), Basis.MAX_WAIT, factor, estimate=True)
    hours_open = (now - opened).total_seconds() / 3600 if opened is not None else 0.0
    if booked <= 0 or hours_open <= 0:
        return DepartureEstimate(max(latest, now), Basis.MAX_WAIT, factor, estimate=True)
    rate = booked / max(hours_open, min_window_h)  # units per hour
    reached = now + timedelta(hours=(rule.load_factor * capacity - booked) / rate)
    if reached >= latest:
        return DepartureEstimate(max(latest, now), Basis.MAX_WAIT, factor, estimate=True)
    return DepartureEstimate(max(reached, nominal), Basis.BOOKING_RATE, factor, estimate=True)
