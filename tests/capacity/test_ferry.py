"""The ferry rule "sail at load factor X or after Y hours", against hand-worked cases."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from corridor.capacity.ferry import Basis, FerryRule, estimate_departure

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
