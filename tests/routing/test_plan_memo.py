"""The planner's answers are remembered per planner and whole query (routing.plan.plan)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from corridor.routing import build_query, planner_for
from corridor.routing.closures import Closure
from corridor.routing.plan import _plan, plan


def test_the_same_query_is_answered_from_the_memo_and_equals_a_fresh_plan(network):
    query = build_query(network, origin="aktau_port", destination="baku", ready=_ready())
    planner = planner_for(network, query)
    first = plan(planner, query)
    again = plan(planner, query)
    assert again == first
    assert again[0] is first[0]  # the same (frozen) itineraries: from the memo
    assert _plan(planner, query, None) == first  # and what planning anew gives


def test_closures_are_part_of_the_key(network):
    query = build_query(network, origin="aktau_port", destination="baku", ready=_ready())
    planner = planner_for(network, query)
    open_answer = plan(planner, query)
    first_leg = open_answer[0].legs[0]
    assert first_leg.service is not None  # the Caspian ferry
    window = Closure(
        kind="service",
        id=first_leg.service,
        start=first_leg.departure - timedelta(hours=1),
        end=first_leg.departure + timedelta(hours=1),
    )
    closed = query.model_copy(update={"closures": (window,)})
    steered = plan(planner, closed)
    assert steered == _plan(planner, closed, None)
    assert steered != open_answer  # not the remembered open-port answer


def _ready() -> datetime:
    return datetime(2026, 3, 3, 8, tzinfo=UTC)
