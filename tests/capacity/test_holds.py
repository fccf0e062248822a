"""The booking state machine and the waitlist order."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from corridor.capacity import CapacityError
from corridor.capacity.holds import (
    Action,
    State,
    check_bookable,
    check_on_board,
    promotable,
    transition,
)

NOW = datetime(2026, 12, 1, 12, tzinfo=UTC)


def test_confirm_a_live_hold():
    assert (
        transition(State.HELD, Action.CONFIRM, NOW + timedelta(minutes=1), NOW) is State.CONFIRMED
    )


@pytest.mark.parametrize("state", [State.HELD, State.EXPIRED])
def test_confirm_after_expiry_names_expires_at(state):
    with pytest.raises(CapacityError) as exc:
        transition(state, Action.CONFIRM, NOW, NOW)
    assert (exc.value.code, exc.value.field) == ("expired", "expires_at")


@pytest.mark.parametrize(
    ("state", "action"),
    [
        (State.CONFIRMED, Action.CONFIRM),
        (State.CANCELLED, Action.CANCEL),
        (State.DECLINED, Action.CONFIRM),
        (State.WAITLISTED, Action.CONFIRM),
        (State.MOVED, Action.MOVE),
        (State.CONFIRMED, Action.EXPIRE),
    ],
)
def test_impossible_moves_are_conflicts(state, action):
    with pytest.raises(CapacityError) as exc:
        transition(state, action, None, NOW)
    assert (exc.value.code, exc.value.field) == ("conflict", "state")


def test_cancel_decline_and_move_end_a_booking():
    assert transition(State.CONFIRMED, Action.CANCEL, None, NOW) is State.CANCELLED
    assert transition(State.WAITLISTED, Action.DECLINE, None, NOW) is State.DECLINED
    assert transition(State.CONFIRMED, Action.MOVE, None, NOW) is State.MOVED


def test_departed_sailings_take_no_booking():
    with pytest.raises(CapacityError) as exc:
        check_bookable(NOW, NOW)
    assert (exc.value.code, exc.value.field) == ("departed", "departure")
    check_bookable(NOW + timedelta(minutes=1), NOW)


def test_waitlist_is_first_come_first_served_and_not_overtaken():
    queue = [("a", 3), ("b", 5), ("c", 1)]
    assert promotable(queue, 4) == ["a"]  # b does not fit; c may not jump it
    assert promotable(queue, 9) == ["a", "b", "c"]
    assert promotable(queue, 2) == []


@pytest.mark.parametrize("action", [Action.CANCEL, Action.DECLINE, Action.MOVE])
def test_a_loaded_booking_is_not_taken_off_board(action):
    with pytest.raises(CapacityError) as exc:
        check_on_board(action, NOW, None)
    assert (exc.value.code, exc.value.field) == ("conflict", "state")
    assert "loaded" in exc.value.reason


@pytest.mark.parametrize("action", list(Action))
def test_a_departed_sailing_is_final(action):
    for loaded in (None, NOW - timedelta(hours=2)):
        with pytest.raises(CapacityError) as exc:
            check_on_board(action, loaded, NOW)
        assert (exc.value.code, exc.value.field) == ("conflict", "state")
        assert "departed" in exc.value.reason


def test_nothing_on_board_changes_nothing():
    for action in Action:
        check_on_board(action, None, None)
    check_on_board(Action.CONFIRM, NOW, None)  # (the state machine refuses it: confirmed already)
