"""The ferry rule "sail at load factor X or after Y hours", against hand-worked cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from corridor.capacity.data import load_capacity
from corridor.capacity.ferry import (
    Basis,
    FerryRule,
    decide,
    estimate_departure,
    fill_time_h,
    hours_left,
    mean_load,
)
from corridor.settings import PACKAGE_DATA_DIR

NOMINAL = datetime(2026, 12, 4, 22, 0, tzinfo=UTC)
RULE = FerryRule(load_factor=0.9, max_wait_h=72)


def test_a_scheduled_vessel_leaves_on_time_and_is_not_an_estimate():
    got = estimate_departure(FerryRule(), NOMINAL, 52, 10, NOMINAL - timedelta(days=2))
    assert got.departure == NOMINAL
    assert got.basis is Basis.SCHEDULED
    assert not got.estimate
    assert got.load_factor == pytest.approx(10 / 52)


def test_loaded_enough_leaves_at_the_nominal_time_or_now_if_later():
    # 47 of 52 wagons = 0.904 >= 0.9
    early = estimate_departure(RULE, NOMINAL, 52, 47, NOMINAL - timedelta(hours=5))
    assert (early.departure, early.basis, early.estimate) == (NOMINAL, Basis.LOADED, True)
    late_now = NOMINAL + timedelta(hours=3)
    assert estimate_departure(RULE, NOMINAL, 52, 47, late_now).departure == late_now


def test_booking_rate_extrapolated_by_hand():
    # 20 of 50 booked over the last 40 h: 0.5 unit/h. X*C = 45, 25 missing -> 50 h from now.
    now = NOMINAL - timedelta(hours=10)
    got = estimate_departure(RULE, NOMINAL, 50, 20, now, opened=now - timedelta(hours=40))
    assert got.basis is Basis.BOOKING_RATE
    assert got.departure == now + timedelta(hours=50)  # = nominal + 40 h, inside the 72 h cap
    assert got.estimate


def test_a_slow_fill_is_capped_at_max_wait():
    # 5 of 50 over 40 h: 0.125/h, 40 missing -> 320 h: beyond nominal + 72 h.
    now = NOMINAL - timedelta(hours=10)
    got = estimate_departure(RULE, NOMINAL, 50, 5, now, opened=now - timedelta(hours=40))
    assert (got.departure, got.basis) == (NOMINAL + timedelta(hours=72), Basis.MAX_WAIT)


def test_a_rate_seen_for_minutes_is_measured_over_a_day():
    # 10 of 50 in the last 10 minutes would say "full in 35 minutes"; over 24 h it is 3.5 days.
    now = NOMINAL - timedelta(hours=1)
    got = estimate_departure(RULE, NOMINAL, 50, 10, now, opened=now - timedelta(minutes=10))
    # rate 10/24 per h, 35 missing -> 84 h from now = nominal + 83 h > 72 h cap
    assert got.basis is Basis.MAX_WAIT


def test_without_bookings_the_latest_time_is_the_answer():
    got = estimate_departure(RULE, NOMINAL, 52, 0, NOMINAL - timedelta(days=1))
    assert got.departure == NOMINAL + timedelta(hours=72)
    assert got.load_factor == 0.0


def test_never_before_the_nominal_departure():
    now = NOMINAL - timedelta(hours=48)
    got = estimate_departure(RULE, NOMINAL, 50, 40, now, opened=now - timedelta(hours=24))
    # 40/24 per h, 5 missing -> 3 h from now: still before nominal, so nominal.
    assert got.departure == NOMINAL


@pytest.mark.parametrize(
    ("factor", "wait"), [(0.9, None), (None, 72.0), (0.0, 72.0), (1.5, 72.0), (0.9, -1.0)]
)
def test_incomplete_or_out_of_range_rules_are_refused(factor, wait):
    with pytest.raises(ValueError, match=r"load_factor|max_wait_h"):
        FerryRule(load_factor=factor, max_wait_h=wait)


# -- the same rule at the berth (the simulation's side) ------------------------------------------

BERTH = FerryRule(load_factor=0.8, max_wait_h=48)


def test_at_the_berth_it_sails_when_loaded_or_when_the_clock_runs_out():
    assert decide(40, 50, 0, BERTH).reason == "loaded"  # 40/50 = 0.8
    assert not decide(39, 50, 10, BERTH).depart
    assert decide(1, 50, 48, BERTH).reason == "waited"
    assert decide(0, 50, 48, BERTH).depart  # a ferry repositions empty
    train = FerryRule(0.9, 72, sail_empty=False)
    assert not decide(0, 57, 100, train).depart  # a train is never formed empty
    assert decide(3, 50, 0, FerryRule()).reason == "scheduled"
    assert hours_left(10, BERTH) == 38
    assert hours_left(60, BERTH) == 0


def test_closed_form_under_steady_arrivals():
    # 2 slots an hour fill 80 % of 50 slots in 20 h, before the 48 h limit
    assert fill_time_h(2.0, 50, BERTH) == pytest.approx(20.0)
    assert mean_load(2.0, 50, BERTH) == pytest.approx(40.0)
    # 0.5 an hour would need 80 h: the vessel leaves at 48 h with 24 slots
    assert fill_time_h(0.5, 50, BERTH) == 48
    assert mean_load(0.5, 50, BERTH) == pytest.approx(24.0)


def test_planner_and_berth_agree_on_one_hand_worked_sailing():
    """The Aktau - Alat Ro-Pax of vessels.csv (X = 0.85, Y = 24 h) with 52 wagon places.

    By hand: 0.85 x 52 = 44.2, so the 45th wagon makes it sail. At the berth, with 2 wagons an
    hour arriving: 44 wagons after 22 h do not yet, 46 after 23 h do ("loaded", before 24 h).
    With 1 wagon an hour it would need 45 h: it sails at 24 h with 24 wagons ("waited").
    The planner, 24 h before the nominal departure, sees 20 wagons booked over the last 24 h
    (5/6 a wagon an hour): 24.2 are missing, reached in 24.2 x 6/5 = 29.04 h, which is nominal +
    5.04 h (inside the 24 h cap). With 5 booked over 24 h, 39.2 missing take 188.16 h: the cap
    wins and it sails at nominal + 24 h.
    """
    vessel = load_capacity(PACKAGE_DATA_DIR).vessels["asco-aktau-alat-ferry"]
    rule = FerryRule.of(vessel)
    assert (rule.load_factor, rule.max_wait_h) == (0.85, 24.0)
    # the berth (simulation's side), hour by hour
    assert decide(44, 52, 22, rule).reason == "waiting"
    fast = next(h for h in range(200) if decide(2 * h, 52, h, rule).depart)
    assert (fast, decide(2 * fast, 52, fast, rule).reason) == (23, "loaded")
    slow = next(h for h in range(200) if decide(h, 52, h, rule).depart)
    assert (slow, decide(slow, 52, slow, rule).reason) == (24, "waited")
    assert fill_time_h(2.0, 52, rule) == pytest.approx(22.1)
    assert fill_time_h(1.0, 52, rule) == 24
    assert mean_load(1.0, 52, rule) == pytest.approx(24.0)
    # the planner's side
    now = NOMINAL - timedelta(hours=24)
    got = estimate_departure(rule, NOMINAL, 52, 20, now, opened=now - timedelta(hours=24))
    assert got.basis is Basis.BOOKING_RATE
    assert abs(got.departure - (NOMINAL + timedelta(hours=5.04))) < timedelta(seconds=1)
    late = estimate_departure(rule, NOMINAL, 52, 5, now, opened=now - timedelta(hours=24))
    assert (late.departure, late.basis) == (NOMINAL + timedelta(hours=24), Basis.MAX_WAIT)
    # once loaded, both say "now"
    assert decide(45, 52, 0, rule).reason == "loaded"
    assert estimate_departure(rule, NOMINAL, 52, 45, now).basis is Basis.LOADED
    # a vessel without a row in vessels.csv, or a scheduled one, keeps its timetable
    assert FerryRule.of(None).scheduled
    assert FerryRule.of(load_capacity(PACKAGE_DATA_DIR).vessels["asco-aktau-alat-feeder"]).scheduled


def test_the_simulation_sails_its_ferries_by_the_vessels_rule():
    """base-2024's Caspian ferry lines carry the rule of vessels.csv, not a figure of their own."""
    from corridor.network import load_network
    from corridor.simulation import prepare
    from corridor.simulation.model import Model
    from corridor.simulation.parameters import load_parameters

    model = Model(load_network(PACKAGE_DATA_DIR), prepare("base-2024"), load_parameters(), 1, 1)
    model._build_lines()
    data = load_capacity(PACKAGE_DATA_DIR).vessels
    # the two Caspian ferry lines base-2024 routes over (Turkmenbashi carries none of its flows)
    for service in ("asco-aktau-alat-ferry", "asco-kuryk-alat-ferry"):
        assert model.lines[service].rule == FerryRule.of(data[service])
