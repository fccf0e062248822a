import pytest

from corridor.customs.lifecycle import Action, Party, Progress, State, TransitionError, check_action
from corridor.customs.offices import Office, OfficeRole, OfficeStop
from corridor.customs.risk import Channel

STOPS = [
    OfficeStop(
        office=Office(id="dep", name="Departure", country="KZ", node="a"), role=OfficeRole.DEPARTURE
    ),
    OfficeStop(office=Office(id="exit", name="Exit", country="KZ", node="b"), role=OfficeRole.EXIT),
    OfficeStop(
        office=Office(id="entry", name="Entry", country="AZ", node="c"), role=OfficeRole.ENTRY
    ),
    OfficeStop(
        office=Office(id="dest", name="Destination", country="AZ", node="d"),
        role=OfficeRole.DESTINATION,
    ),
]
START = Progress(0, False, False)


def run(steps, channels=None):
    state, progress = State.DRAFT, START
    for action, party, office in steps:
        move = check_action(state, action, party, office, STOPS, progress, channels or {})
        state, progress = move.state, move.progress
    return state, progress


HAPPY = [
    (Action.LODGE, Party.HOLDER, None),
    (Action.ACCEPT, Party.CUSTOMS, 0),
    (Action.RELEASE, Party.CUSTOMS, 0),
    (Action.ARRIVE, Party.CUSTOMS, 1),
    (Action.PASS, Party.CUSTOMS, 1),
    (Action.ARRIVE, Party.CUSTOMS, 2),
    (Action.PASS, Party.CUSTOMS, 2),
    (Action.ARRIVE, Party.CUSTOMS, 3),
    (Action.DISCHARGE, Party.CUSTOMS, 3),
]


def test_full_life_cycle():
    assert run(HAPPY)[0] is State.DISCHARGED
    assert run(HAPPY[:8])[0] is State.ARRIVED


def test_illegal_transition_names_state_and_action():
    with pytest.raises(TransitionError) as caught:
        run([(Action.RELEASE, Party.CUSTOMS, 0)])
    assert caught.value.state == "draft"
    assert caught.value.action == "release"
    assert "cannot release a declaration in state draft" in str(caught.value)


def test_offices_act_in_itinerary_order():
    with pytest.raises(TransitionError, match="expected at office 1"):
        run([*HAPPY[:3], (Action.ARRIVE, Party.CUSTOMS, 2)])
    with pytest.raises(TransitionError, match="has not arrived"):
        run([*HAPPY[:3], (Action.PASS, Party.CUSTOMS, 1)])
    with pytest.raises(TransitionError, match="office of departure"):
        run([HAPPY[0], (Action.ACCEPT, Party.CUSTOMS, 2)])


def test_red_channel_needs_an_inspection():
    red = {0: Channel.RED, 2: Channel.RED}
    with pytest.raises(TransitionError, match="red channel"):
        run(HAPPY[:3], red)
    steps = [*HAPPY[:2], (Action.CHECK, Party.CUSTOMS, 0), *HAPPY[2:6]]
    with pytest.raises(TransitionError, match="red channel"):
        run([*steps, (Action.PASS, Party.CUSTOMS, 2)], red)
    state, progress = run(
        [*steps, (Action.CHECK, Party.CUSTOMS, 2), (Action.PASS, Party.CUSTOMS, 2)], red
    )
    assert (state, progress.position) == (State.RELEASED, 3)


def test_parties_are_kept_apart():
    with pytest.raises(TransitionError, match="only the holder"):
        run([(Action.LODGE, Party.CUSTOMS, 0)])
    with pytest.raises(TransitionError, match="only the customs"):
        run([HAPPY[0], (Action.ACCEPT, Party.HOLDER, None)])
    assert run([HAPPY[0], (Action.CANCEL, Party.HOLDER, None)])[0] is State.CANCELLED
    with pytest.raises(TransitionError):
        run([*HAPPY[:3], (Action.CANCEL, Party.HOLDER, None)])
