"""Capacity across the Caspian and the borders: slots that cannot be overbooked.

Capacity data per service, sailing, crossing and port (``data/capacity``), the ferry rule "sail
when loaded or after a wait", the rules of holds, confirmations and waitlists, the electronic queue
at road checkpoints with signed tickets, and the dispatch board. The numbers themselves are kept
in the database by :mod:`corridor.store.capacity`, which enforces them with conditional updates and
a CHECK constraint.
"""

from corridor.capacity.data import CapacityData, check_capacity, load_capacity, read_capacity
from corridor.capacity.errors import CapacityError
from corridor.capacity.ferry import DepartureEstimate, FerryRule, estimate_departure
from corridor.capacity.model import CargoKind, Unit

__all__ = [
    "CapacityData",
    "CapacityError",
    "CargoKind",
    "DepartureEstimate",
    "FerryRule",
    "Unit",
    "check_capacity",
    "estimate_departure",
    "load_capacity",
    "read_capacity",
]
