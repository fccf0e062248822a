"""The PyPSA model: gas as a transport model on links, power as a linear dispatch with NTC links.

Built from scenario-applied data; solved with HiGHS. The model has no storage and no annual
constraint, so every hour is independent: the year is solved in windows (``window_hours``) that give
the same optimum as one LP over 8,760 hours, use far less memory and can report progress. An outage
needs only the hours it covers to be solved again.

Import this module only when a model is to be built: PyPSA takes seconds to import.
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
import pypsa

from corridor.energy import profiles
from corridor.energy.assets import (
    HOURS,
    Outage,
    assets,
    cable_link,
    gas_link,
    plant_component,
    supply_generator,
)
from corridor.energy.data import EnergyData

Progress = Callable[[float, str], None]

pypsa.options.api.legacy_string_dtype = False
for _name in ("pypsa", "linopy", "highspy"):
    logging.getLogger(_name).setLevel(logging.ERROR)


@contextmanager
def _quiet() -> Iterator[None]:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def snapshots(year: int) -> pd.DatetimeIndex:
    """The 8,760 hours of the scenario year (a leap year's 31 December is left out)."""
    return pd.date_range(f"{year}-01-01", periods=HOURS, freq="h")


def _marginal_cost(data: EnergyData, country: str, tech: str) -> float:
    t = data.technologies[tech]
    co2 = data.countries[country].co2_price_eur_per_t
    if t.profile != "flat":
        return t.vom_eur_per_mwh
    return (
        t.fuel_cost_eur_per_mwh_th + t.co2_t_per_mwh_th * co2
    ) / t.efficiency + t.vom_eur_per_mwh


class _Batch:
    """Rows of one component type, added to the network in one call (one call per row is slow)."""

    def __init__(self) -> None:
        self.names: list[str] = []
        self.static: dict[str, list[object]] = {}
        self.series: dict[str, dict[str, np.ndarray]] = {}

    def row(self, name: str, series: dict[str, np.ndarray] | None = None, **static: object) -> None:
        for key in static:
            self.static.setdefault(key, [None] * len(self.names))
        for key, values in self.static.items():
            values.append(static.get(key))
        self.names.append(name)
        for key, profile in (series or {}).items():
            self.series.setdefault(key, {})[name] = profile

    def add_to(self, n: pypsa.Network, component: str) -> None:
        if not self.names:
            return
        kwargs: dict[str, Any] = dict(self.static)
        for key, cols in self.series.items():
            kwargs[key] = pd.DataFrame(cols, index=n.snapshots)
        n.add(component, self.names, **kwargs)


def build(data: EnergyData, year: int, outage: Outage | None = None) -> pypsa.Network:
    """The network for a scenario year, with an outage (if any) taking its components out."""
    a = data.assumptions
    mw_per_bcm = a.mw_per_bcm_per_yr()
    n = pypsa.Network(name=f"corridor {year}")
    n.set_snapshots(snapshots(year))
    carriers = ["electricity", "gas", "gas pipeline", "ac", "hvdc", "load shedding"]
    carriers += [t for t in data.technologies if t not in carriers]
    buses, loads, gens, weather, links = _Batch(), _Batch(), _Batch(), _Batch(), _Batch()
    for bus in data.buses.values():
        buses.row(bus.bus_id, carrier=bus.carrier, x=bus.lon_deg, y=bus.lat_deg)
    for code, c in data.countries.items():
        el_bus, gas_bus = f"{code}-el", f"{code}-gas"
        if el_bus in data.buses and c.el_demand_twh_per_yr > 0:
            lon = data.buses[el_bus].lon_deg
            loads.row(
                f"load {el_bus}",
                bus=el_bus,
                series={"p_set": profiles.electricity_demand(code, lon, c.el_demand_twh_per_yr)},
            )
        non_power = c.gas_demand_bcm_per_yr * (1 - c.gas_power_share) * a.twh_per_bcm * 1e6
        if gas_bus in data.buses and non_power > 0:
            loads.row(
                f"load {gas_bus}",
                bus=gas_bus,
                series={"p_set": profiles.gas_demand(code, non_power, c.heating_amplitude)},
            )
    loaded = set(loads.static.get("bus", []))
    for bus in data.buses.values():
        if bus.bus_id in loaded:
            voll = (
                a.voll_electricity_eur_per_mwh
                if bus.carrier == "electricity"
                else a.voll_gas_eur_per_mwh
            )
            gens.row(
                f"shed {bus.bus_id}",
                bus=bus.bus_id,
                carrier="load shedding",
                p_nom=1e6,
                marginal_cost=voll,
                p_max_pu=1.0,
            )
    for (code, tech), mw in data.generation.items():
        if mw <= 0:
            continue
        t = data.technologies[tech]
        el_bus = f"{code}-el"
        if tech == "gas":
            links.row(
                plant_component(code, tech),
                bus0=f"{code}-gas",
                bus1=el_bus,
                carrier=tech,
                p_nom=mw / t.efficiency,
                efficiency=t.efficiency,
                p_min_pu=0.0,
                length=0.0,
                marginal_cost=(
                    t.co2_t_per_mwh_th * data.countries[code].co2_price_eur_per_t
                    + t.vom_eur_per_mwh * t.efficiency
                ),
            )
            continue
        c = data.countries[code]
        bus = data.buses[el_bus]
        pu: np.ndarray | None = None
        if t.profile == "wind":
            offshore = "offshore" in tech
            pu = profiles.wind(code, min(c.wind_cf * (1.3 if offshore else 1.0), 0.6), offshore)
        elif t.profile == "solar":
            pu = profiles.solar(code, bus.lat_deg, bus.lon_deg, c.solar_cf)
        elif t.profile == "hydro":
            pu = profiles.hydro(code, c.hydro_cf)
        if pu is None:
            gens.row(
                plant_component(code, tech),
                bus=el_bus,
                carrier=tech,
                p_nom=mw,
                marginal_cost=_marginal_cost(data, code, tech),
                p_max_pu=1.0,
            )
        else:
            weather.row(
                plant_component(code, tech),
                bus=el_bus,
                carrier=tech,
                p_nom=mw,
                marginal_cost=_marginal_cost(data, code, tech),
                series={"p_max_pu": pu},
            )
    for sid, s in data.gas_supply.items():
        code = data.buses[s.bus].country
        swing = data.countries[code].production_swing if s.kind == "production" else 0.0
        bcm = (
            data.countries[code].gas_production_bcm_per_yr
            if s.kind == "production"
            else s.capacity_bcm_per_yr or 0.0
        )
        if swing > 0:
            # p_nom is the winter peak; p_max_pu (mean 1 / peak) keeps the annual total.
            shape = profiles.production_swing(swing)
            peak = float(shape.max())
            weather.row(
                supply_generator(sid),
                bus=s.bus,
                carrier="gas",
                p_nom=bcm * mw_per_bcm * peak,
                marginal_cost=s.price_eur_per_mwh,
                series={"p_max_pu": shape / peak},
            )
            continue
        gens.row(
            supply_generator(sid),
            bus=s.bus,
            carrier="gas",
            p_nom=bcm * mw_per_bcm,
            marginal_cost=s.price_eur_per_mwh,
            p_max_pu=1.0,
        )
    for seg in data.pipelines.values():
        links.row(
            gas_link(seg.segment_id),
            bus0=seg.bus0,
            bus1=seg.bus1,
            carrier="gas pipeline",
            p_nom=seg.capacity_bcm_per_yr * mw_per_bcm,
            efficiency=1.0,
            p_min_pu=-1.0 if seg.bidirectional else 0.0,
            length=seg.length_km,
            marginal_cost=seg.tariff_eur_per_mwh,
        )
    for cab in data.interconnectors.values():
        links.row(
            cable_link(cab.asset),
            bus0=cab.bus0,
            bus1=cab.bus1,
            carrier=cab.kind,
            p_nom=cab.capacity_mw,
            efficiency=1.0,
            p_min_pu=-1.0,
            length=cab.length_km,
            marginal_cost=0.01,
        )
    with _quiet():
        n.add("Carrier", carriers)
        buses.add_to(n, "Bus")
        loads.add_to(n, "Load")
        gens.add_to(n, "Generator")
        weather.add_to(n, "Generator")
        links.add_to(n, "Link")
    if outage is not None:
        apply_outage(n, data, outage)
    return n


def apply_outage(n: pypsa.Network, data: EnergyData, outage: Outage) -> None:
    """Zero the availability of the outage's components in its hours."""
    asset = assets(data)[outage.asset_id]
    hours = n.snapshots[outage.first : outage.last + 1]
    for link in asset.links:
        for attr in ("p_max_pu", "p_min_pu"):
            static = float(n.links.at[link, attr])
            series = pd.Series(static, index=n.snapshots)
            series.loc[hours] = 0.0
            n.links_t[attr][link] = series
    for gen in asset.generators:
        current = (
            n.generators_t.p_max_pu[gen]
            if gen in n.generators_t.p_max_pu
            else pd.Series(float(n.generators.at[gen, "p_max_pu"]), index=n.snapshots)
        )
        current = current.copy()
        current.loc[hours] = 0.0
        n.generators_t.p_max_pu[gen] = current


def windows(first: int, last: int, size: int) -> list[tuple[int, int]]:
    """Consecutive hour windows (inclusive bounds) covering ``first``..``last``."""
    return [(s, min(s + size, last + 1) - 1) for s in range(first, last + 1, size)]


def _optimize(n: pypsa.Network, hours: pd.DatetimeIndex) -> tuple[str, str]:
    """What ``n.optimize`` does for this model, without its AC post-processing.

    ``n.optimize`` ends by working out the network's topology to derive voltage angles and bus
    injections, quantities of AC lines that this links-only model has none of and never reads. That
    step cost about 0.5 s of CPU per window whatever its length: a third of a day's solve, a tenth
    of a 2,190-hour window's. PyPSA's own steps are called instead (check, build, solve, read the
    flows and the prices back); the results are the same to the last digit (tests/energy).
    """
    n.consistency_check()
    model = n.optimize.create_model(
        snapshots=hours, include_objective_constant=False, consistency_check=False
    )
    status, condition = model.solve(
        solver_name="highs", io_api="direct", threads=1, output_flag=False, log_to_console=False
    )
    if status == "ok":
        n.optimize.assign_solution()
        n.optimize.assign_duals()
    return str(status), str(condition)


def solve(
    n: pypsa.Network,
    first: int = 0,
    last: int = HOURS - 1,
    window_hours: int = 730,
    progress: Progress | None = None,
) -> None:
    """Solve hours ``first``..``last`` window by window with HiGHS (dual simplex, one thread)."""
    parts = windows(first, last, window_hours)
    for i, (a, b) in enumerate(parts):
        if progress:
            progress(i / len(parts), f"solving hours {a}-{b}")
        with _quiet():
            status, condition = _optimize(n, n.snapshots[a : b + 1])
        if status != "ok":
            # Load shedding makes every hour feasible; anything else is a bug, not bad input.
            raise RuntimeError(f"HiGHS ended with {status}/{condition} on hours {a}-{b}")
    if progress:
        progress(1.0, "solved")
