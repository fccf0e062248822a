"""A storm notice at the next port moves a shipment's ETA at once (issue 17: ETAs recomputed)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from corridor.routing import Criterion, best, build_query, planner_for
from corridor.routing.closures import Closure
from corridor.tracking.eta import estimate


def test_a_closure_ahead_delays_the_eta_and_says_why(network):
    query = build_query(
        network,
        origin="dostyk",
        destination="tbilisi",
        ready=datetime(2026, 3, 3, 8, tzinfo=UTC),
        via=["aktau_port"],
    )
    plan = best(planner_for(network, query), query, Criterion.TIME)
    reach = next(leg for leg in plan.legs if leg.to_node == "aktau_port")
    seen_at = reach.arrival
    plain = estimate(network, plan, "aktau_port", "arriving", seen_at, {}, 2.0)
    storm = Closure(kind="node", id="aktau_port", start=seen_at, end=seen_at + timedelta(days=6))
    delayed = estimate(network, plan, "aktau_port", "arriving", seen_at, {}, 2.0, (storm,))
    # Nothing leaves the closed port for six days, so the consignment arrives at least that late
    # unless it could have reached Tbilisi some other way, which from Aktau it cannot.
    assert delayed.eta >= plain.eta + timedelta(days=5)
    assert "disruption notices" in delayed.basis
