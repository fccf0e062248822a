"""The planner on a network small enough to work out every answer by hand (see mini.py)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from corridor.network import load_network
from corridor.routing import (
    Cargo,
    Criterion,
    NoRouteError,
    Planner,
    Timetable,
    best,
    make_query,
    pareto,
)
from tests.routing import mini
from tests.routing.conftest import MONDAY


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def test_rail_ferry_rail_with_transshipment_and_schedules(mini_net, mini_planner):
    q = make_query(mini_net, origin="o", destination="d", ready=MONDAY, modes={"rail", "ferry"})
    it = best(mini_planner, q, Criterion.TIME)
    # Train 06:00 -> p 10:00; 10 h in port misses Monday's 12:00 ferry; Thursday 12:00 + 20 h;
    # 5 h at q -> 109 h; next train Saturday 06:00 (126 h) -> d at 128 h.
    assert [leg.mode for leg in it.legs] == ["rail", "ferry", "rail"]
    assert it.legs[0].departure == at(6)
    assert it.legs[1].departure == at(84)
    assert it.legs[1].transfer_h == 10
    assert it.legs[2].departure == at(126)
    assert it.arrival == at(128)
    assert it.transit_days == pytest.approx(128 / 24, abs=0.01)
    # 1 x 40GP = 2 TEU; tariffs 100 + 500 + 50 per TEU.
    assert it.cost_usd == pytest.approx(2 * 650)
    # 20 t (10 t per TEU): 25 g x 20 t x 200 km + 200 g x 20 t x 400 km + 25 g x 20 t x 100 km.
    assert it.co2e_kg == pytest.approx(100 + 1600 + 50)
    assert [c.id for c in it.legs[1].crossings] == ["t-p", "x-pq"]
    assert it.corridors == ("by-sea",)


def test_pareto_set_keeps_the_fast_truck_and_the_cheap_ferry(mini_net, mini_planner):
    q = make_query(mini_net, origin="o", destination="d", ready=MONDAY)
    options = pareto(mini_planner, q)
    assert [(it.arrival, it.cost_usd, it.co2e_kg) for it in options] == [
        (at(36), 6000, 1200),  # 12 h on the road + 24 h at the border
        (at(128), 1300, 1750),
    ]
    assert best(mini_planner, q, Criterion.COST).cost_usd == 1300
    assert best(mini_planner, q, Criterion.CO2E).co2e_kg == 1200


def test_full_ferry_is_skipped_for_the_next_sailing_with_room(mini_net):
    planner = Planner(Timetable(mini_net, MONDAY, days=30))
    thursday = next(p for p in planner.tt.patterns if p.key == "fer:fwd")
    trip = thursday.departures.index(84.0)
    planner.tt.book(thursday.key, trip, 9)  # 1 TEU left, the cargo needs 2
    q = make_query(mini_net, origin="o", destination="d", ready=MONDAY, modes={"rail", "ferry"})
    it = best(planner, q)
    # The dated sailing on Saturday 7 March 09:00 (129 h); +20 h, +5 h, next train 174 h.
    assert it.legs[1].departure == at(129)
    assert it.arrival == at(176)


def test_consignment_on_a_train_is_not_pruned_by_an_earlier_truck(tmp_path):
    """Buffer times: arriving earlier but having to transship must not beat staying on the train."""
    directory = mini.build(
        tmp_path / "buffer",
        road_od=False,
        extra_nodes={"e": ("AZ", 40.8, 48.0, "rail_terminal")},
        distances={"d-e": 100.0, "q-d-road": 100.0},
        extra_links=[
            mini.link(
                "d-e",
                "d",
                "e",
                "rail",
                gauge_mm=1520,
                vehicle="rail_diesel",
                vehicle_source="test",
                speed_kmh=50,
                speed_source="test",
                headway_h=24,
                headway_source="test",
                tariff_usd=10,
                tariff_unit="teu",
                tariff_source="test",
            ),
            mini.link(
                "q-d-road",
                "q",
                "d",
                "road",
                vehicle="truck_40t",
                vehicle_source="test",
                speed_kmh=8,
                speed_source="test",
                tariff_usd=1,
                tariff_unit="teu",
                tariff_source="test",
            ),
        ],
    )
    net = load_network(directory)
    planner = Planner(Timetable(net, MONDAY, days=30))
    q = make_query(net, origin="o", destination="e", ready=MONDAY)
    it = best(planner, q, Criterion.TIME)
    # The truck reaches d at 121.5 h, before the train (128 h), but then needs 6 h of handling and
    # misses Saturday's 06:00 departure (150 h). The train from q runs on through d: e at 130 h.
    assert it.arrival == at(130)
    assert [leg.mode for leg in it.legs] == ["rail", "ferry", "rail"]


def test_constraints_avoid_latest_arrival_and_transfers(mini_net, mini_planner):
    avoid_az = dict(origin="o", destination="d", ready=MONDAY)
    with pytest.raises(NoRouteError) as caught:
        best(
            mini_planner,
            make_query(mini_net, **avoid_az, avoid_nodes={"q"}, modes={"rail", "ferry"}),
        )
    assert caught.value.field == "destination"
    assert "no feasible route" in str(caught.value)
    with pytest.raises(NoRouteError):
        best(
            mini_planner,
            make_query(mini_net, **avoid_az, modes={"rail", "ferry"}, latest_arrival=at(100)),
        )
    # At most 0 transfers: only the direct truck qualifies.
    it = best(mini_planner, make_query(mini_net, **avoid_az, max_transfers=0))
    assert [leg.mode for leg in it.legs] == ["road"]


def test_cargo_too_big_for_the_ferry(mini_net, mini_planner):
    q = make_query(
        mini_net,
        origin="o",
        destination="d",
        ready=MONDAY,
        modes={"rail", "ferry"},
        cargo=Cargo(containers=6),
    )  # 12 TEU > 10 TEU per sailing
    with pytest.raises(NoRouteError):
        best(mini_planner, q)


def test_via_forces_the_sea_route(mini_net, mini_planner):
    q = make_query(mini_net, origin="o", destination="d", ready=MONDAY, via=(("q",),))
    assert best(mini_planner, q).arrival == at(128)


def test_ready_time_is_utc_and_naive_times_are_taken_as_utc(mini_net, mini_planner):
    q = make_query(mini_net, origin="o", destination="d", ready=datetime(2026, 3, 2, 0, 0))
    assert q.ready.tzinfo is UTC


def test_a_via_node_is_passed_not_touched_and_turned_back_from(network):
    # Via Kuryk means sailing from Kuryk: touching the port by rail and turning back to sail
    # from Aktau is not a way through Kuryk. Plans never run straight back over the same link.
    from corridor.routing import planner_for
    from corridor.routing.plan import node_sequence

    corridor = network.corridors["middle-kuryk-btk"]
    q = make_query(
        network,
        origin="xian",
        destination="kars",
        ready=MONDAY,
        via=corridor.via,
        avoid_countries=frozenset(corridor.avoid_countries),
    )
    sequence = node_sequence(network, best(planner_for(network, q), q))
    assert "aktau_port" not in sequence
    k = sequence.index("kuryk_port")
    assert sequence[k + 1] in ("kuryk_port", "alat_port")


def test_dates_outside_the_planning_range_are_refused(mini_net):
    from corridor.routing import RoutingError

    with pytest.raises(RoutingError) as caught:
        make_query(mini_net, origin="o", destination="d", ready=datetime(9999, 12, 31, tzinfo=UTC))
    assert caught.value.field == "ready"
