"""When a batch server (a ferry, a feeder, a train being formed) leaves: the one rule both models use.

Caspian ferries mostly sail when loaded, not to a timetable (pem-ferries; trainorders.com reports);
operators still cap how long a vessel waits at the berth, so a ship sails when its load factor
reaches ``load_factor`` or when it has waited ``max_wait_h`` hours, whichever comes first. Keeping
the rule in one pure module means the capacity model (closed-form sailings per year) and the
discrete-event simulation (a vessel deciding at the berth) cannot drift apart.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class DepartureRule:
    """Sail when ``load / capacity >= load_factor`` or after ``max_wait_h`` hours at the berth.

    ``sail_empty``: whether a vessel that waited ``max_wait_h`` with nothing on board still sails
    (to reposition); a train being formed never leaves empty.
    """

    load_factor: float = 0.85
    max_wait_h: float = 48.0
    sail_empty: bool = True

    def __post_init__(self) -> None:
        if not 0.0 < self.load_factor <= 1.0:
            raise ValueError("load_factor must lie in (0, 1]")
        if self.max_wait_h < 0.0:
            raise ValueError("max_wait_h must not be negative")


@dataclass(frozen=True)
class Decision:
    depart: bool
    reason: str  # "loaded" | "waited" | "waiting"


def decide(load: float, capacity: float, waited_h: float, rule: DepartureRule) -> Decision:
    """Whether a vessel holding ``load`` of ``capacity`` slots after ``waited_h`` hours sails now."""
    if capacity <= 0:
        raise ValueError("capacity must be positive")
    if load >= rule.load_factor * capacity - 1e-9:
        return Decision(True, "loaded")
    if waited_h >= rule.max_wait_h - 1e-9 and (load > 0 or rule.sail_empty):
        return Decision(True, "waited")
    return Decision(False, "waiting")


def hours_left(waited_h: float, rule: DepartureRule) -> float:
    """Hours until the waiting limit forces a departure (0 when it already has)."""
    return max(0.0, rule.max_wait_h - waited_h)


def fill_time_h(arrival_rate_per_h: float, capacity: float, rule: DepartureRule) -> float:
    """Hours a vessel spends at the berth when cargo arrives steadily at ``arrival_rate_per_h``.

    The closed form the capacity model uses: it fills to the load factor or the clock runs out.
    """
    if arrival_rate_per_h <= 0:
        return rule.max_wait_h
    return min(rule.load_factor * capacity / arrival_rate_per_h, rule.max_wait_h)


def mean_load(arrival_rate_per_h: float, capacity: float, rule: DepartureRule) -> float:
    """Slots on board at departure under steady arrivals (the other half of the closed form)."""
    return min(arrival_rate_per_h * fill_time_h(arrival_rate_per_h, capacity, rule), capacity)
