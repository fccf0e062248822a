"""Closed windows on the hand-made network (mini.py): each answer worked out on paper.

Without closures (test_search.py): train o 06:00 -> p 10:00; 10 h in port; Thursday's 12:00 ferry
(84 h) -> q at 104 h; 5 h at q; Saturday's 06:00 train (126 h) -> d at 128 h. Besides its Monday and
Thursday timetable the ferry has one extra dated sailing, Saturday 09:00 (129 h).
"""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest

from corridor.routing import Criterion, NoRouteError, best, make_query
from corridor.routing.closures import Closure
from tests.routing.conftest import MONDAY


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def plan(net, planner, closures, modes=("rail", "ferry")):
    q = make_query(net, origin="o", destination="d", ready=MONDAY, modes=set(modes))
    return best(planner, q.model_copy(update={"closures": tuple(closures)}), Criterion.TIME)


def test_a_cancelled_sailing_moves_the_cargo_to_the_next_one(mini_net, mini_planner):
    # Ferry line suspended 80-90 h: Thursday's 84 h sailing is cancelled; the next is the extra
    # Saturday sailing (129 h) -> q 149 h; +5 h = 154 h; next 06:00 train (174 h) -> d 176 h.
    it = plan(mini_net, mini_planner, [Closure(kind="service", id="fer", start=at(80), end=at(90))])
    assert it.legs[1].departure == at(129)
    assert it.arrival == at(176)


def test_both_cancelled_sailings_push_to_the_next_week(mini_net, mini_planner):
    # Suspended 80-130 h cancels the 84 h and the 129 h sailings: Monday 12:00 (180 h) -> q 200 h;
    # 205 h; train at 222 h -> d 224 h.
    it = plan(
        mini_net, mini_planner, [Closure(kind="service", id="fer", start=at(80), end=at(130))]
    )
    assert it.legs[1].departure == at(180)
    assert it.arrival == at(224)


def test_a_closed_line_holds_the_train_until_it_reopens(mini_net, mini_planner):
    # q-d closed 110-140 h: Saturday's 126 h train cannot run; the first train after 140 h
    # leaves at 06:00 on day 6 (150 h) -> d at 152 h.
    it = plan(mini_net, mini_planner, [Closure(kind="link", id="q-d", start=at(110), end=at(140))])
    assert it.legs[-1].departure == at(150)
    assert it.arrival == at(152)


def test_a_closed_port_delays_arrivals_into_it(mini_net, mini_planner):
    # Port p closed 0-100 h: the train cannot arrive before 100 h, so it leaves o at 102 h (day 5,
    # 06:00) -> p 106 h; +10 h = 116 h; Saturday's 129 h sailing -> q 149 h -> 154 h -> train at
    # 174 h -> d 176 h.
    it = plan(mini_net, mini_planner, [Closure(kind="node", id="p", start=at(0), end=at(100))])
    assert it.legs[0].departure == at(102)
    assert it.arrival == at(176)


def test_road_goes_round_a_closed_port_when_allowed(mini_net, mini_planner):
    # With road allowed and p closed for ten days the 600 km road (12 h + 24 h border) wins.
    closure = Closure(kind="node", id="p", start=at(0), end=at(240))
    it = plan(mini_net, mini_planner, [closure], modes=("rail", "ferry", "road"))
    assert [leg.mode for leg in it.legs] == ["road"]


def test_an_open_ended_closure_with_no_way_round_has_no_route(mini_net, mini_planner):
    with pytest.raises(NoRouteError):
        plan(mini_net, mini_planner, [Closure(kind="node", id="q", start=at(0))])


def test_a_closure_outside_the_trip_changes_nothing(mini_net, mini_planner):
    it = plan(mini_net, mini_planner, [Closure(kind="node", id="q", start=at(300), end=at(400))])
    assert it.arrival == at(128)


def test_a_closure_must_end_after_it_starts():
    with pytest.raises(ValueError, match="end"):
        Closure(kind="node", id="p", start=at(10), end=at(5))
