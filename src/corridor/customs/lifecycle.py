"""The life cycle of a transit declaration as an explicit state machine.

    draft -> lodged -> accepted -> released -> (at each office: arrive -> [check] -> pass)
          -> arrived (at destination) -> discharged (guarantee released)
    lodged -> rejected;  draft/lodged/accepted -> cancelled;  draft/lodged/accepted -> amended (stays)
    (an accepted declaration only until the office of departure announces a control: see rules)
    incidents (seal broken, transshipment, accident) are recorded while released

Which party may act, at which office, is checked in :func:`check_action`; an illegal move raises
:class:`TransitionError` naming the state and the action.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from corridor.customs.offices import OfficeStop
from corridor.customs.risk import Channel


class State(StrEnum):
    DRAFT = "draft"
    LODGED = "lodged"
    ACCEPTED = "accepted"
    REJECTED = "rejected"
    RELEASED = "released"
    ARRIVED = "arrived"
    DISCHARGED = "discharged"
    CANCELLED = "cancelled"


class Action(StrEnum):
    LODGE = "lodge"
    AMEND = "amend"
    CANCEL = "cancel"
    ACCEPT = "accept"
    REJECT = "reject"
    CHECK = "check"
    RELEASE = "release"
    ARRIVE = "arrive"
    PASS = "pass"
    INCIDENT = "incident"
    DISCHARGE = "discharge"


class Party(StrEnum):
    HOLDER = "holder"
    CUSTOMS = "customs"


#: (state, action) -> next state; None = the state does not change.
TRANSITIONS: dict[tuple[State, Action], State | None] = {
    (State.DRAFT, Action.LODGE): State.LODGED,
    (State.DRAFT, Action.AMEND): None,
    (State.LODGED, Action.AMEND): None,
    (State.ACCEPTED, Action.AMEND): None,
    (State.DRAFT, Action.CANCEL): State.CANCELLED,
    (State.LODGED, Action.CANCEL): State.CANCELLED,
    (State.ACCEPTED, Action.CANCEL): State.CANCELLED,
    (State.LODGED, Action.ACCEPT): State.ACCEPTED,
    (State.LODGED, Action.REJECT): State.REJECTED,
    (State.ACCEPTED, Action.CHECK): None,
    (State.ACCEPTED, Action.RELEASE): State.RELEASED,
    (State.RELEASED, Action.ARRIVE): None,
    (State.RELEASED, Action.CHECK): None,
    (State.RELEASED, Action.PASS): None,
    (State.RELEASED, Action.INCIDENT): None,
    (State.ARRIVED, Action.CHECK): None,
    (State.ARRIVED, Action.DISCHARGE): State.DISCHARGED,
}

WHO = {
    Action.LODGE: Party.HOLDER,
    Action.AMEND: Party.HOLDER,
    Action.CANCEL: Party.HOLDER,
    Action.INCIDENT: Party.HOLDER,
}


class TransitionError(ValueError):
    def __init__(self, state: str, action: str, reason: str, code: str = "conflict") -> None:
        self.state, self.action, self.reason, self.code = state, action, reason, code
        super().__init__(f"cannot {action} a declaration in state {state}: {reason}")


@dataclass(frozen=True)
class Progress:
    """Where the consignment is: the next office on the itinerary and what happened there."""

    position: int  # index of the office the consignment is at or heads for
    arrived: bool  # it has arrived at that office
    checked: bool  # the office recorded a control result


@dataclass(frozen=True)
class Move:
    state: State
    progress: Progress


def check_action(
    state: State,
    action: Action,
    party: Party,
    office_index: int | None,
    stops: list[OfficeStop],
    progress: Progress,
    channel_at: dict[int, Channel],
) -> Move:
    """The state after ``action``, or TransitionError saying why it is not allowed now."""
    if (state, action) not in TRANSITIONS:
        allowed = sorted(a.value for (s, a) in TRANSITIONS if s is state)
        raise TransitionError(
            state, action, f"allowed in this state: {', '.join(allowed) or 'nothing'}"
        )
    if WHO.get(action, Party.CUSTOMS) is not party:
        raise TransitionError(
            state,
            action,
            f"only the {WHO.get(action, Party.CUSTOMS).value} may {action.value}",
            "forbidden",
        )
    if party is Party.HOLDER:
        return advance(state, action, None, progress, len(stops) - 1)
    assert office_index is not None
    expected = progress.position
    departure_only = action in (Action.ACCEPT, Action.REJECT, Action.RELEASE) or (
        state is State.ACCEPTED and action is Action.CHECK
    )
    if departure_only:
        if office_index != 0:
            raise TransitionError(state, action, "done by the office of departure", "forbidden")
        if action is Action.RELEASE:
            _require_check(state, action, channel_at.get(0), progress)
        return advance(state, action, office_index, progress, len(stops) - 1)
    if office_index != expected:
        name = stops[expected].office.name if expected < len(stops) else "none"
        raise TransitionError(
            state,
            action,
            f"the consignment is expected at office {expected} ({name}), not at office {office_index}",
        )
    if action is Action.ARRIVE and progress.arrived:
        raise TransitionError(state, action, "already arrived at this office")
    if action is not Action.ARRIVE and not progress.arrived:
        raise TransitionError(state, action, "the consignment has not arrived at this office yet")
    if action in (Action.PASS, Action.DISCHARGE):
        _require_check(state, action, channel_at.get(office_index), progress)
    return advance(state, action, office_index, progress, len(stops) - 1)


def advance(
    state: State, action: Action, office_index: int | None, progress: Progress, destination: int
) -> Move:
    """The effect of an action already found allowed: the next state and where the goods are.

    Kept apart from the checks in :func:`check_action` so that the log can be replayed with the
    very same rules (``verify`` re-derives every declaration's state from its records).
    ``destination`` is the index of the office of destination (the last on the itinerary).
    """
    target = TRANSITIONS.get((state, action)) or state
    if office_index is None:  # the holder's operations do not move the goods
        return Move(target, progress)
    if action is Action.CHECK and state is State.ACCEPTED:
        return Move(target, Progress(0, False, True))
    if action is Action.RELEASE:
        return Move(target, Progress(1, False, False))
    if action in (Action.ACCEPT, Action.REJECT):
        return Move(target, progress)
    if action is Action.ARRIVE:
        arrived = Progress(progress.position, True, False)
        return Move(State.ARRIVED if office_index == destination else target, arrived)
    if action is Action.CHECK:
        return Move(target, Progress(progress.position, True, True))
    if action is Action.PASS:
        return Move(target, Progress(progress.position + 1, False, False))
    return Move(target, progress)


def _require_check(
    state: State, action: Action, channel: Channel | None, progress: Progress
) -> None:
    """Yellow (documents) and red (physical inspection) need a recorded check before the goods move."""
    if channel in (Channel.YELLOW, Channel.RED) and not progress.checked:
        kind = "inspection" if channel is Channel.RED else "documents check"
        raise TransitionError(
            state, action, f"{channel.value} channel: record the {kind} (check) first"
        )
