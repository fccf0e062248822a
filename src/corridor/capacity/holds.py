"""The life of a capacity booking: hold, confirm, decline, move, cancel, expire, waitlist.

A hold keeps capacity for a forwarder while the line's carrier decides; it lapses after a TTL so an
abandoned booking does not block a ferry. Only states in :data:`OCCUPYING` take capacity; the
store moves the numbers with conditional updates, this module decides which moves are allowed.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from enum import StrEnum

from corridor.capacity.errors import CapacityError


class State(StrEnum):
    HELD = "held"
    CONFIRMED = "confirmed"
    WAITLISTED = "waitlisted"
    DECLINED = "declined"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    MOVED = "moved"


class Action(StrEnum):
    CONFIRM = "confirm"
    DECLINE = "decline"
    MOVE = "move"
    CANCEL = "cancel"
    EXPIRE = "expire"


#: States that take capacity on their sailing.
OCCUPYING = frozenset({State.HELD, State.CONFIRMED})
#: Actions of the line's carrier; the others belong to the forwarder that booked (or the clock).
CARRIER_ACTIONS = frozenset({Action.CONFIRM, Action.DECLINE, Action.MOVE})

_MOVES: dict[Action, tuple[frozenset[State], State]] = {
    Action.CONFIRM: (frozenset({State.HELD}), State.CONFIRMED),
    Action.DECLINE: (frozenset({State.HELD, State.CONFIRMED, State.WAITLISTED}), State.DECLINED),
    Action.MOVE: (frozenset({State.HELD, State.CONFIRMED, State.WAITLISTED}), State.MOVED),
    Action.CANCEL: (frozenset({State.HELD, State.CONFIRMED, State.WAITLISTED}), State.CANCELLED),
    Action.EXPIRE: (frozenset({State.HELD}), State.EXPIRED),
}


def transition(state: State, action: Action, expires_at: datetime | None, now: datetime) -> State:
    """The state after ``action``, or CapacityError naming why it is not allowed."""
    allowed, target = _MOVES[action]
    if action is Action.CONFIRM and state is State.EXPIRED:
        raise CapacityError("expired", "expires_at", "the hold has expired; book again")
    if state not in allowed:
        raise CapacityError(
            "conflict", "state", f"cannot {action.value} a booking that is {state.value}"
        )
    if action is Action.CONFIRM and expires_at is not None and expires_at <= now:
        raise CapacityError(
            "expired",
            "expires_at",
            f"the hold expired at {expires_at.isoformat()}; book again",
        )
    return target


#: Actions that would take a booking off the sailing it is loaded on.
OFF_BOARD = frozenset({Action.DECLINE, Action.MOVE, Action.CANCEL})


def check_on_board(
    action: Action, loaded_at: datetime | None, departed_at: datetime | None
) -> None:
    """Refuse what the physical facts forbid, whatever the booking's state says.

    Once its sailing has departed a booking is history: nothing changes it except what the
    departure itself recorded (who was on board). Once loaded, the cargo is on the ferry: the
    forwarder cannot cancel it and the carrier cannot decline or move it; the carrier first
    unloads it (before departure), which is a physical act of its own with its own event.
    """
    if departed_at is not None:
        raise CapacityError(
            "conflict",
            "state",
            f"the sailing departed at {departed_at.isoformat()}: its bookings no longer change",
        )
    if loaded_at is not None and action in OFF_BOARD:
        raise CapacityError(
            "conflict",
            "state",
            f"cannot {action.value} a booking that is loaded (on board since "
            f"{loaded_at.isoformat()}); the carrier unloads it first",
        )


def hold_expiry(now: datetime, ttl_min: float) -> datetime:
    if ttl_min <= 0:
        raise ValueError("the hold TTL must be positive")
    return now + timedelta(minutes=ttl_min)


def check_bookable(departure: datetime, now: datetime) -> None:
    """A departed sailing takes no bookings."""
    if departure <= now:
        raise CapacityError("departed", "departure", f"the sailing left at {departure.isoformat()}")


def promotable(waitlist: list[tuple[str, int]], free: int) -> list[str]:
    """Waitlisted bookings to promote, first come first served, while they fit in ``free``.

    Strictly in order: a large booking at the head is not overtaken by smaller ones behind it,
    so nobody waits forever behind a stream of small bookings that always fit.
    """
    chosen: list[str] = []
    for booking_id, units in waitlist:
        if units > free:
            break
        chosen.append(booking_id)
        free -= units
    return chosen
