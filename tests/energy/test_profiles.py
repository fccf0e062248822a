"""Synthetic profiles keep the published annual totals and capacity factors they are scaled to."""

from __future__ import annotations

import numpy as np
import pytest

from corridor.energy import profiles


def test_demand_sums_to_the_annual_consumption():
    load = profiles.electricity_demand("IT", 12.5, 306.0)
    assert load.shape == (8760,)
    assert load.sum() / 1e6 == pytest.approx(306.0)
    assert load.max() / load.mean() < 1.5


def test_gas_demand_peaks_in_winter():
    gas = profiles.gas_demand("TR", 52 * 10.55e6, 0.55)
    assert gas.sum() == pytest.approx(52 * 10.55e6)
    january, july = gas[:744].mean(), gas[4344:5088].mean()
    assert january > 2 * july


@pytest.mark.parametrize("cf", [0.15, 0.22])
def test_solar_meets_its_capacity_factor_and_is_dark_at_night(cf):
    pu = profiles.solar("GR", 39.5, 22.0, cf)
    assert pu.mean() == pytest.approx(cf, rel=1e-4)
    assert pu.min() >= 0
    assert pu.max() <= 1
    # Local midnight (22:00 UTC at 22 degrees east is about 23:28 local) is dark every day.
    assert np.all(pu[22::24] == 0)


def test_wind_and_hydro_meet_their_capacity_factors_and_repeat():
    w = profiles.wind("TR", 0.33)
    assert w.mean() == pytest.approx(0.33, rel=1e-4)
    assert np.array_equal(w, profiles.wind("TR", 0.33))
    assert not np.array_equal(w, profiles.wind("GR", 0.33))
    h = profiles.hydro("GE", 0.45)
    assert h.mean() == pytest.approx(0.45, rel=1e-4)
    assert h[3000:3400].mean() > h[7000:7400].mean()  # May above late autumn
