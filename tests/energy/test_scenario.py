"""Scenario files: shipped ones load, user-made ones are checked key by key."""

from __future__ import annotations

import pytest

from corridor.energy import EnergyDataError, EnergyError, load_energy_data, load_scenario
from corridor.energy.assets import make_outage, n1_candidates
from corridor.energy.scenario import apply, shipped_scenarios


@pytest.fixture(scope="module")
def data():
    return load_energy_data()


def test_2025_has_only_operating_assets(data):
    sc = load_scenario("2025", data)
    d = apply(data, sc)
    assert "black-sea-cable" not in d.interconnectors
    assert "tcp" not in {p.asset for p in d.pipelines.values()}
    assert d.pipelines["tap-gr"].capacity_bcm_per_yr == 11.5


def test_2030_adds_the_cable_expansions_offshore_wind_and_production(data):
    assert {"2025", "2030"} <= set(shipped_scenarios())
    sc = load_scenario("2030", data)
    d = apply(data, sc)
    assert d.interconnectors["black-sea-cable"].capacity_mw == 1000
    assert d.pipelines["scp-az-ge"].capacity_bcm_per_yr == 31.0  # en-sgc-scp
    assert d.pipelines["tap-gr"].capacity_bcm_per_yr == 20.0  # en-trend-tap-exp
    assert d.generation[("AZ", "wind_offshore")] == 3500  # en-oedigital-owind
    assert d.countries["AZ"].gas_production_bcm_per_yr == 49.0
    assert d.countries["IT"].el_demand_twh_per_yr == pytest.approx(306 * 1.08)
    assert "black-sea-cable" in n1_candidates(d)


def _user(tmp_path, text):
    path = tmp_path / "mine.toml"
    path.write_text(text, encoding="utf-8")
    return str(path)


def test_user_scenario_with_the_caspian_cable_and_the_trans_caspian_pipeline(tmp_path, data):
    path = _user(
        tmp_path,
        'name = "mine"\nyear = 2032\nenable = ["caspian-cable", "tcp"]\n'
        "[interconnector_capacity_mw]\ncaspian-cable = 2000\n",
    )
    d = apply(data, load_scenario(path, data))
    assert d.interconnectors["caspian-cable"].capacity_mw == 2000
    assert d.pipelines["tcp"].capacity_bcm_per_yr == 30.0


@pytest.mark.parametrize(
    ("text", "field", "reason"),
    [
        ("year = 2030\ncolour = 1\n", "colour", "unknown key"),
        (
            "year = 2030\n[pipeline_capacity_mw]\nscp-az-ge = 31\n",
            "pipeline_capacity_mw",
            "wrong unit",
        ),
        ("year = 2030\nenable = ['nord-stream']\n", "enable", "unknown asset 'nord-stream'"),
        (
            "year = 2030\n[pipeline_capacity_bcm_per_yr]\nscp-az-ge = -1\n",
            "pipeline_capacity_bcm_per_yr",
            "needs a number >= 0",
        ),
        ("year = 2030\n[generation_mw]\n'AZ.fusion' = 5\n", "generation_mw", "unknown technology"),
        ("year = 'soon'\n", "year", "needs a year"),
        ("year = 2030\n[demand_scale\n", None, "not valid TOML"),
    ],
)
def test_bad_user_scenarios_are_refused_with_the_key(tmp_path, data, text, field, reason):
    with pytest.raises(EnergyDataError) as caught:
        load_scenario(_user(tmp_path, text), data)
    assert any(
        p.field == field and reason in p.message and p.file == "mine.toml"
        for p in caught.value.problems
    ), caught.value.problems


def test_unknown_scenario_and_asset_are_errors_naming_the_field(data):
    with pytest.raises(EnergyError) as caught:
        load_scenario("2099", data)
    assert caught.value.field == "scenario"
    d = apply(data, load_scenario("2025", data))
    with pytest.raises(EnergyError) as caught:
        make_outage(d, 2025, "tanapp")
    assert caught.value.field == "asset"
    assert "tanap" in caught.value.reason  # a suggestion
    with pytest.raises(EnergyError) as caught:
        make_outage(d, 2025, "tap", "2025-03-01", "2025-02-01")
    assert caught.value.field == "to"
    with pytest.raises(EnergyError) as caught:
        make_outage(d, 2025, "tap", "2026-03-01")
    assert caught.value.field == "from"


def test_an_outage_window_is_hours_of_the_year(data):
    d = apply(data, load_scenario("2025", data))
    o = make_outage(d, 2025, "tap", "2025-01-02", "2025-01-03")
    assert (o.first, o.last, o.hours) == (24, 47, 24)
