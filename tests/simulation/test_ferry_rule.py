import pytest

from corridor.simulation.ferry_rule import (
    DepartureRule,
    decide,
    fill_time_h,
    hours_left,
    mean_load,
)

RULE = DepartureRule(load_factor=0.8, max_wait_h=48)


def test_sails_when_loaded():
    assert decide(40, 50, 0, RULE).reason == "loaded"
    assert not decide(39, 50, 10, RULE).depart


def test_sails_when_the_clock_runs_out():
    assert decide(1, 50, 48, RULE).reason == "waited"
    assert decide(0, 50, 48, RULE).depart  # vessels reposition empty
    train = DepartureRule(0.9, 72, sail_empty=False)
    assert not decide(0, 57, 100, train).depart  # a train is never formed empty


def test_hours_left():
    assert hours_left(10, RULE) == 38
    assert hours_left(60, RULE) == 0


def test_closed_form_under_steady_arrivals():
    # 2 slots an hour fill 80 % of 50 slots in 20 h, before the 48 h limit
    assert fill_time_h(2.0, 50, RULE) == pytest.approx(20.0)
    assert mean_load(2.0, 50, RULE) == pytest.approx(40.0)
    # 0.5 an hour would need 80 h: the vessel leaves at 48 h with 24 slots
    assert fill_time_h(0.5, 50, RULE) == 48
    assert mean_load(0.5, 50, RULE) == pytest.approx(24.0)


def test_rule_checks_its_figures():
    with pytest.raises(ValueError, match="load_factor"):
        DepartureRule(load_factor=0)
    with pytest.raises(ValueError, match="max_wait_h"):
        DepartureRule(max_wait_h=-1)
    with pytest.raises(ValueError, match="capacity"):
        decide(1, 0, 0, RULE)
