import pytest

from corridor.emissions import co2e_per_unit, leg_co2e_kg
from corridor.network.model import EmissionFactor


def factor(**kw):
    base = dict(
        vehicle="v",
        name="V",
        mode="sea",
        g_co2e=50,
        per="teukm",
        basis="WTW",
        distance_factor=1.15,
        distance_factor_source=("s",),
        source=("s",),
    )
    return EmissionFactor.model_validate({**base, **kw})


def test_per_teu_km_with_distance_adjustment():
    # 50 g x 80 TEU x (10,000 km x 1.15) = 46,000 kg
    assert leg_co2e_kg(factor(), 10_000, tonnes=800, teu=80) == pytest.approx(46_000)


def test_per_tonne_km_ignores_teu():
    f = factor(mode="rail", per="tkm", g_co2e=25, distance_factor=1.0)
    assert leg_co2e_kg(f, 1000, tonnes=20, teu=2) == pytest.approx(500)


def test_planner_legs_use_this_formula(network):
    # The planner precomputes CO2e per unit of cargo through co2e_per_unit; a leg it plans must
    # carry exactly what leg_co2e_kg gives for the leg's vehicle, distance and cargo.
    from datetime import UTC, datetime

    from corridor.routing import best, make_query, planner_for

    q = make_query(
        network,
        origin="xian",
        destination="alashankou",
        ready=datetime(2026, 3, 3, tzinfo=UTC),
        cargo={"containers": 3, "tonnes": 42.0},
    )
    leg = best(planner_for(network, q), q).legs[0]
    vehicle = network.links[leg.links[0]].vehicle
    expected = sum(
        leg_co2e_kg(network.emission_factors[vehicle], network.links[lk].distance_km, 42.0, 6.0)
        for lk in leg.links
    )
    assert leg.co2e_kg == pytest.approx(expected, abs=0.1)


def test_per_unit_intensity_is_one_of_tonne_or_teu():
    per_tonne, per_teu = co2e_per_unit(factor(), 1000)
    assert (per_tonne, per_teu) == (0.0, pytest.approx(57.5))  # 50 g x 1000 km x 1.15


def test_negative_inputs_are_refused():
    with pytest.raises(ValueError, match="negative"):
        leg_co2e_kg(factor(), -1, tonnes=1, teu=1)
