"""Distributions, charges, storms and large consignments on the hand-worked mini network."""

from __future__ import annotations

import csv
from datetime import UTC, date, datetime, timedelta

import pytest

from corridor.network import load_network
from corridor.network.model import StormClosure
from corridor.routing import (
    Cargo,
    Criterion,
    NoRouteError,
    Planner,
    RateTableError,
    Timetable,
    best,
    make_query,
    pareto,
    plan,
    read_rates,
    split,
)
from tests.routing import mini
from tests.routing.conftest import MONDAY

RAIL_FERRY = {"rail", "ferry"}


def at(hours: float) -> datetime:
    return MONDAY + timedelta(hours=hours)


def _write(path, rows):
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    return path


def _charge(**kw):
    row = {
        "id": "h-p",
        "kind": "handling",
        "at": "t-p",
        "amount": "100",
        "currency": "USD",
        "unit": "container",
        "valid_from": "2026-01-01",
        "valid_to": "2026-12-31",
        "source": "test",
    }
    row.update(kw)
    return row


def test_closed_day_share_gives_whole_days_held():
    # P(held >= k days) = share ** k: at 0.32 (ten days in January) one departure in ten waits
    # two days or more (0.32 ** 2 = 0.10), the median departure is not held.
    january = StormClosure(area="sea", month=1, closed_day_share=0.32, source=("s",))
    assert january.delay_days(0.5) == 0
    assert january.delay_days(0.9) == 2
    assert (
        StormClosure(area="sea", month=7, closed_day_share=0.0, source=("s",)).delay_days(0.9) == 0
    )


def test_p90_clock_misses_the_ferry_the_typical_clock_catches(tmp_path):
    # Port P, land to sea (outbound): median 1 h, p90 30 h (dwell.csv replaces crossings.csv's
    # 10 h). Typical: train o 06:00 -> p 10:00, +1 h catches Monday's 12:00 ferry, q at 32 h,
    # +5 h, Tuesday's 06:00 train (54 h) -> d at 56 h. p90: p at 10 h + 30 h = 40 h, so Thursday's
    # ferry (84 h) -> q 104 h, +5 h, Saturday's 06:00 train (126 h) -> d at 128 h.
    directory = mini.build(tmp_path / "m")
    with (directory / "crossings.csv").open() as handle:
        rows = list(csv.DictReader(handle))
    for row in rows:
        if row["id"] == "t-p":
            row.update(dwell_h="", dwell_min_h="", dwell_max_h="")
    _write(directory / "crossings.csv", rows)
    dwell = {"crossing": "t-p", "side": "KZ", "source": "test"}
    _write(
        directory / "dwell.csv",
        [
            {**dwell, "direction": "outbound", "p50_h": 1, "p90_h": 30},
            {**dwell, "direction": "inbound", "p50_h": 2, "p90_h": 4},
        ],
    )
    net = load_network(directory)
    planner = Planner(Timetable(net, MONDAY, days=30))
    q = make_query(net, origin="o", destination="d", ready=MONDAY, modes=RAIL_FERRY)
    it = best(planner, q)
    assert it.legs[1].departure == at(12)
    assert it.arrival == at(56)
    assert it.arrival_p90 == at(128)
    assert it.transit_days_p90 == pytest.approx(128 / 24, abs=0.01)
    (passed,) = [c for c in it.legs[1].crossings if c.kind == "transshipment"]
    assert (passed.dwell_h, passed.dwell_p90_h) == (1, 30)
    # The other way a ship arrives at p (inbound, sea to land): 2 h / 4 h.
    back = make_query(net, origin="d", destination="o", ready=MONDAY, modes=RAIL_FERRY)
    (inbound,) = [c for leg in best(planner, back).legs for c in leg.crossings if c.id == "t-p"]
    assert (inbound.dwell_h, inbound.dwell_p90_h) == (2, 4)


def test_p90_is_a_pareto_criterion(mini_net, mini_planner):
    q = make_query(mini_net, origin="o", destination="d", ready=MONDAY)
    options = pareto(mini_planner, q)
    assert all(it.arrival_p90 is not None for it in options)
    assert best(mini_planner, q, Criterion.P90).arrival_p90 == min(
        it.arrival_p90 for it in options if it.arrival_p90
    )


def test_charges_from_the_rate_table_are_added(tmp_path):
    directory = mini.build(tmp_path / "m")
    _write(directory / "rates.csv", [_charge()])
    net = load_network(directory)
    planner = Planner(Timetable(net, MONDAY, days=30))
    q = make_query(net, origin="o", destination="d", ready=MONDAY, modes=RAIL_FERRY)
    # 1300 USD of tariffs (test_search) + USD 100 handling for the one container at port P.
    assert best(planner, q).cost_usd == pytest.approx(1400)
    # Out of its validity the charge is not applied.
    later = make_query(net, origin="o", destination="d", ready=datetime(2027, 3, 1, tzinfo=UTC))
    planner = Planner(Timetable(net, datetime(2027, 3, 1, tzinfo=UTC), days=30))
    assert best(planner, later.model_copy(update={"modes": q.modes})).cost_usd == 1300


@pytest.mark.parametrize(
    ("change", "fld", "reason"),
    [
        ({"currency": ""}, "currency", "missing currency"),
        ({"amount": "-5"}, "amount", "cannot be negative"),
        ({"valid_to": "2026-01-31"}, "valid_to", "expired on 2026-01-31"),
        ({"currency": "EUR"}, "currency", "give amounts in USD"),
        ({"at": "nowhere"}, "at", "unknown crossing or node"),
    ],
)
def test_bad_rate_rows_name_file_line_field_and_reason(tmp_path, change, fld, reason):
    path = _write(tmp_path / "march.csv", [_charge(id="ok"), _charge(**change)])
    with pytest.raises(RateTableError) as caught:
        read_rates(path, today=date(2026, 3, 2), places={"t-p", "p"})
    (problem,) = caught.value.problems
    assert (problem.file, problem.line, problem.field) == ("march.csv", 3, fld)
    assert reason in problem.message


def test_a_consignment_larger_than_a_sailing_is_split_into_lots(mini_net, mini_planner):
    # 6 x 40GP = 12 TEU; the ferry takes 10 TEU a sailing. Lot 1 (3 boxes) as in test_search:
    # Thursday ferry, d at 128 h. Lot 2 finds 4 TEU left on Thursday and takes Saturday's dated
    # sailing (129 h): q at 149 h, 5 h transfer, train Sunday 06:00 (174 h), d at 176 h.
    q = make_query(
        mini_net,
        origin="o",
        destination="d",
        ready=MONDAY,
        modes=RAIL_FERRY,
        cargo=Cargo(containers=6),
    )
    with pytest.raises(NoRouteError):
        best(mini_planner, q)
    (it,) = plan(mini_planner, q)
    assert [(lot.containers, lot.arrival) for lot in it.lots] == [(3, at(128)), (3, at(176))]
    assert it.arrival == at(176)
    assert it.split is not None
    assert "2 lots" in it.split
    assert it.cost_usd == pytest.approx(12 * 650)
    assert mini_planner.tt.booked == {}  # the split books on a private copy


def test_capacity_that_no_lot_fits_is_named(tmp_path):
    net = load_network(mini.build(tmp_path / "m", ferry_capacity=2, road_od=False))
    planner = Planner(Timetable(net, MONDAY, days=30))
    q = make_query(
        net,
        origin="o",
        destination="d",
        ready=MONDAY,
        cargo=Cargo(containers=2, container_type="45HC"),
    )  # 2.25 TEU a box, 2 TEU a sailing
    with pytest.raises(NoRouteError) as caught:
        plan(planner, q)
    assert caught.value.field == "destination"
    with pytest.raises(NoRouteError) as caught:
        split(planner, q)
    assert caught.value.field == "cargo"
    assert "capacity" in caught.value.reason


def test_plan_names_capacity_when_one_box_would_get_through(tmp_path):
    # Ferry of 2 TEU a sailing; 3 x 40GP need three sailings (Thursday 84 h, Saturday 129 h,
    # Monday 180 h), but the third lot would reach d at 224 h, after the latest arrival (200 h).
    net = load_network(mini.build(tmp_path / "m", ferry_capacity=2, road_od=False))
    planner = Planner(Timetable(net, MONDAY, days=30))
    q = make_query(
        net,
        origin="o",
        destination="d",
        ready=MONDAY,
        latest_arrival=at(200),
        cargo=Cargo(containers=3),
    )
    with pytest.raises(NoRouteError) as caught:
        plan(planner, q)
    assert caught.value.field == "cargo"
    assert "capacity" in caught.value.reason
