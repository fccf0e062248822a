"""The A* bounds from the compiled Dijkstra search (routing.bounds): worked by hand on the mini
network, never above the real remaining time, and giving exactly the answers of the lazy bounds."""

from __future__ import annotations

import random
from datetime import timedelta

import pytest

from corridor.routing import PARETO, Criterion, Planner, Timetable, make_query
from tests.routing.conftest import MONDAY


def test_state_bounds_count_the_transfers_by_hand(mini_net):
    planner = Planner(Timetable(mini_net, MONDAY, days=30), compiled_bounds=True)
    q = make_query(mini_net, origin="o", destination="d", ready=MONDAY)
    ctx = planner._context(q, (Criterion.TIME,))  # the default cargo: 1 x 40' = 2 TEU
    hours = planner._backward(ctx, "hours")
    # q -> d by rail 100 km at 50 km/h = 2 h; off the ferry at q first 5 h transshipment.
    assert hours.bound("q", "") == pytest.approx(2)
    assert hours.bound("q", "ferry") == pytest.approx(5 + 2)
    # p off a train: 10 h in port, 20 h ferry, then as at q off the ferry (a bound by node: 22 h).
    assert hours.bound("p", "rail") == pytest.approx(10 + 20 + 7)
    # o: road 600 km at 50 km/h + 24 h border = 36 h beats rail 4 h + 37 h.
    assert hours.bound("o", "") == pytest.approx(36)
    usd = planner._backward(ctx, "usd")
    # Per TEU: rail 50 from q; ferry 500 + rail 50 from p; the cheaper of road 3000 and
    # 100 + 500 + 50 by rail and ferry from o (2 TEU).
    assert usd.bound("q") == pytest.approx(2 * 50)
    assert usd.bound("p") == pytest.approx(2 * 550)
    assert usd.bound("o") == pytest.approx(2 * 650)


def _pairs(network, count: int, seed: int) -> list[tuple[str, str]]:
    places = sorted(n.id for n in network.nodes.values() if n.kind != "border_crossing")
    rng = random.Random(seed)
    return [tuple(rng.sample(places, 2)) for _ in range(count)]  # type: ignore[misc]


@pytest.fixture(scope="module")
def planners(network):
    tt = Timetable(network, MONDAY, days=90)
    return Planner(tt, compiled_bounds=False), Planner(tt, compiled_bounds=True)


def _answers(planner, query, criteria):
    return [
        tuple(round(x, 6) for x in (lb.t, lb.t90, lb.cost, lb.co2))
        for lb in planner.search(query, criteria)
    ]


@pytest.mark.parametrize("criteria", [(Criterion.TIME,), PARETO], ids=["time", "pareto"])
def test_compiled_bounds_give_the_same_answers_on_the_shipped_network(network, planners, criteria):
    lazy, compiled = planners
    count = 40 if criteria == (Criterion.TIME,) else 12
    for i, (a, b) in enumerate(_pairs(network, count, seed=11)):
        q = make_query(network, origin=a, destination=b, ready=MONDAY + timedelta(hours=7 * i))
        assert _answers(compiled, q, criteria) == _answers(lazy, q, criteria), (a, b)


def test_compiled_bounds_never_exceed_what_is_left(network, planners):
    _, compiled = planners
    for i, (a, b) in enumerate(_pairs(network, 40, seed=5)):
        q = make_query(network, origin=a, destination=b, ready=MONDAY + timedelta(hours=5 * i))
        for result in compiled.search(q, PARETO):
            ctx = compiled._context(q, PARETO)
            hours = compiled._backward(ctx, "hours")
            usd, kg = compiled._backward(ctx, "usd"), compiled._backward(ctx, "kg")
            label = result
            while label is not None:
                assert hours.bound(label.node, label.vmode) <= result.t - label.t + 1e-6
                assert usd.bound(label.node) <= result.cost - label.cost + 1e-6
                assert kg.bound(label.node) <= result.co2 - label.co2 + 1e-6
                label = label.parent


def test_the_money_bound_follows_the_rate_period(network):
    """A charge valid in March only must not bound April's queries (the bound is cached per
    destination and cargo; a March bound reused in April would overstate what is left)."""
    from datetime import date

    from corridor.routing.rates import Charge, ChargeKind, ChargeUnit, RateTable

    march = RateTable(
        tuple(
            Charge(
                f"march-{crossing}",
                ChargeKind.BORDER,
                crossing,
                20000.0,
                ChargeUnit.CONTAINER,
                date(2026, 3, 1),
                date(2026, 3, 31),
                ("test",),
            )
            for crossing in ("x-dostyk", "x-khorgos")
        )
    )
    tt = Timetable(network, MONDAY, days=90)
    compiled = Planner(tt, march, compiled_bounds=True)
    in_march = make_query(network, origin="urumqi", destination="aktau_port", ready=MONDAY)
    in_april = make_query(
        network, origin="urumqi", destination="aktau_port", ready=MONDAY + timedelta(days=35)
    )
    bound_in_march = compiled._backward(compiled._context(in_march, PARETO), "usd")
    bound_in_april = compiled._backward(compiled._context(in_april, PARETO), "usd")
    fresh = Planner(tt, march, compiled_bounds=True)
    april_alone = fresh._backward(fresh._context(in_april, PARETO), "usd")
    # March's charges raise the bound from Urumqi (the cheapest way then avoids both crossings);
    # April's bound, asked for after March's, is the one computed for April alone.
    assert bound_in_march.bound("urumqi") > bound_in_april.bound("urumqi") + 1000
    assert bound_in_april.bound("urumqi") == april_alone.bound("urumqi")
    lazy = Planner(tt, march, compiled_bounds=False)
    compiled.search(in_march, PARETO)
    assert _answers(compiled, in_april, PARETO) == _answers(lazy, in_april, PARETO)
    assert _answers(compiled, in_march, PARETO) == _answers(lazy, in_march, PARETO)
