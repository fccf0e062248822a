"""The PyPSA model against hand-worked cases, and outages on the shipped data over short windows."""

from __future__ import annotations

import numpy as np
import pytest

from corridor.energy import load_energy_data, load_scenario
from corridor.energy.assets import Outage, gas_link
from corridor.energy.outages import sweep
from corridor.energy.run import prepare, solve_prepared
from corridor.energy.scenario import apply
from tests.energy.conftest import write_mini

WEEK = 167


def _mini(tmp_path, imports_bcm):
    from corridor.energy import model

    data = load_energy_data(write_mini(tmp_path / "energy", imports_bcm))
    scenario_file = tmp_path / "mini.toml"
    scenario_file.write_text("year = 2025\n", encoding="utf-8")
    data = apply(data, load_scenario(str(scenario_file), data))
    n = model.build(data, 2025)
    model.solve(n, 0, WEEK, data.assumptions.window_hours)
    return data, n


def test_mini_corridor_matches_the_hand_worked_dispatch(tmp_path):
    _, n = _mini(tmp_path, imports_bcm=100)
    hours = slice(0, WEEK + 1)
    mw_per_bcm = 10.55e6 / 8760
    # The 3 bcm/yr pipe is full every hour: Georgian demand (5 bcm/yr + power) exceeds it.
    flow = n.links_t.p0[gas_link("p1")].iloc[hours]
    assert np.allclose(flow, 3.0 * mw_per_bcm)
    assert "pipe p2" not in n.links.index  # planned, not in this scenario
    prices = n.buses_t.marginal_price.iloc[hours]
    assert np.allclose(prices["GE-gas"], 40.0)  # the import sets the price
    assert np.allclose(prices["AZ-gas"], 12.0)  # production (10 bcm/yr) is not exhausted
    # Power from the gas plant: (gas price + VOM x efficiency) / efficiency = (40 + 1.25) / 0.5.
    assert np.allclose(prices["GE-el"], 82.5)
    burnt = n.links_t.p0["GE gas"].iloc[hours]
    load = n.loads_t.p_set["load GE-el"].iloc[hours]
    assert np.allclose(burnt, 2 * load)
    assert n.generators_t.p.filter(like="shed").iloc[hours].to_numpy().sum() == pytest.approx(0)


def test_demand_no_supply_can_meet_is_unserved_energy_not_a_crash(tmp_path):
    _, n = _mini(tmp_path, imports_bcm=1)
    hours = slice(0, WEEK + 1)
    mw_per_bcm = 10.55e6 / 8760
    need = (n.loads_t.p_set["load GE-gas"] + 2 * n.loads_t.p_set["load GE-el"]).iloc[hours].sum()
    supply = (3.0 + 1.0) * mw_per_bcm * (WEEK + 1)
    shed = n.generators_t.p.iloc[hours]
    # Shedding gas (400 EUR/MWh) is cheaper than shedding power (3000 for 2 MWh of gas' worth).
    assert shed["shed GE-gas"].sum() == pytest.approx(need - supply, rel=1e-6)
    assert shed["shed GE-el"].sum() == pytest.approx(0, abs=1e-3)
    prices = n.buses_t.marginal_price.iloc[hours]
    assert np.allclose(prices["GE-gas"], 400.0)
    assert np.allclose(prices["GE-el"], (400.0 + 1.25) / 0.5)


def test_an_outage_of_tap_stops_its_flow_and_raises_italian_prices():
    base = solve_prepared(prepare("2025"), 0, 23)
    cut = solve_prepared(prepare("2025", "tap", "2025-01-01", "2025-01-02"), 0, 23)
    tap = {p["asset"]: p for p in cut.summary["pipelines"]}["tap"]
    assert tap["throughput_bcm"] == pytest.approx(0, abs=1e-6)
    assert tap["hours_at_capacity"] == 0
    assert cut.summary["outage"]["asset"] == "tap"
    before = {p["asset"]: p for p in base.summary["pipelines"]}["tap"]["throughput_bcm"]
    assert before > 0.01  # up to 10.5 bcm/yr, 1/365 of it in a day
    assert cut.summary["prices"]["IT-gas"]["mean"] > base.summary["prices"]["IT-gas"]["mean"]


def test_sweep_in_parallel_ranks_losing_tap_above_a_small_interconnector():
    prep = prepare("2025")
    rows = sweep(prep.data, 2025, ["ro-hu-gas", "tap"], 0, 23, workers=2)
    assert rows[0]["asset"] == "tap"
    tap = rows[0]
    assert tap["harm_europe_eur"] > 0
    assert tap["price_change_eur_per_mwh"]["IT-gas"] > 0
    # Azerbaijani gas that cannot reach Europe stays east: the TANAP offtake in Turkiye has no room
    # left, so TANAP's throughput falls.
    assert tap["rerouted_bcm"]["tanap"] < 0
    assert tap["harm_europe_eur"] > rows[1]["harm_europe_eur"]


def test_outage_components_are_zero_only_in_their_window():
    from corridor.energy import model

    prep = prepare("2025")
    n = model.build(prep.data, 2025, Outage("scp", 10, 19))
    pu = n.links_t.p_max_pu[gas_link("scp-az-ge")]
    assert (pu.iloc[10:20] == 0).all()
    assert (pu.iloc[:10] == 1).all()
    assert (pu.iloc[20:] == 1).all()
    shed = n.generators_t.p_max_pu
    n2 = model.build(prep.data, 2025, Outage("BG.nuclear", 0, 0))
    assert n2.generators_t.p_max_pu["BG nuclear"].iloc[0] == 0
    assert "BG nuclear" not in shed


def test_2030_sends_more_gas_to_europe_and_power_over_the_black_sea_than_2025():
    week = (2160, 2327)  # the first week of April
    now = solve_prepared(prepare("2025"), *week).summary
    later = solve_prepared(prepare("2030"), *week).summary

    def tap(summary):
        return {p["asset"]: p["throughput_bcm"] for p in summary["pipelines"]}["tap"]

    assert tap(later) > tap(now) * 1.3  # TAP 11.5 -> 20 bcm/yr, SCP 31, TANAP 24
    cable = {s["id"]: s for s in later["segments"]}["black-sea-cable"]
    assert cable["forward"] > 0
    assert "black-sea-cable" not in {s["id"] for s in now["segments"]}


def test_the_solve_reads_back_what_pypsas_own_optimize_gives():
    # model.solve calls PyPSA's steps without the AC post-processing that n.optimize ends with;
    # flows, dispatch and prices must be PyPSA's own, hour by hour (here over 6 hours of 2030).
    from corridor.energy import model

    prep = prepare("2030")
    ours = model.build(prep.data, 2030)
    model.solve(ours, 0, 5, prep.data.assumptions.window_hours)
    theirs = model.build(prep.data, 2030)
    status, _ = theirs.optimize(
        snapshots=theirs.snapshots[:6],
        solver_name="highs",
        io_api="direct",
        include_objective_constant=False,
        threads=1,
        output_flag=False,
    )
    assert status == "ok"
    for table in ("links_t", "buses_t", "generators_t"):
        attr = {"links_t": "p0", "buses_t": "marginal_price", "generators_t": "p"}[table]
        mine = getattr(ours, table)[attr].iloc[:6]
        pypsa = getattr(theirs, table)[attr].iloc[:6]
        assert list(mine.columns) == list(pypsa.columns)
        assert np.allclose(mine.to_numpy(), pypsa.to_numpy(), rtol=0, atol=1e-6), table
    assert ours.links_t.p0.iloc[:6].abs().to_numpy().sum() > 0
