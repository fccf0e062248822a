import pytest

from corridor.emissions import leg_co2e_kg
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


def test_shipped_factors_are_wtw_and_sourced(network):
    assert {
        "rail_electric",
        "rail_diesel",
        "truck_40t",
        "ropax_ferry",
        "container_ship_large",
    } <= set(network.emission_factors)
    for f in network.emission_factors.values():
        assert f.basis == "WTW"
        assert all(s in network.sources for s in f.source)


def test_negative_inputs_are_refused():
    with pytest.raises(ValueError, match="negative"):
        leg_co2e_kg(factor(), -1, tonnes=1, teu=1)
