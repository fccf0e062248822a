"""What a solved model says: flows, utilisation, prices, unserved energy, CO2, gas balances.

``extract`` turns a solved PyPSA network into plain pandas frames (hourly) and a JSON-serialisable
summary; ``save``/``load`` keep them in a directory so the report and the API read them without
PyPSA. Gas figures are in bcm (billion m3), electricity in TWh or MW, prices in EUR/MWh.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pandas as pd

from corridor.energy.assets import HOURS, cable_link, gas_link, plant_component, supply_generator
from corridor.energy.data import EnergyData

if TYPE_CHECKING:
    import pypsa

SUMMARY = "summary.json"
HOURLY = "hourly.csv.gz"


@dataclass
class Results:
    """Hourly frames of one run (hours as rows) and its summary."""

    flows_mw: pd.DataFrame  # link id -> MW leaving bus0 (negative: bus1 -> bus0)
    prices: pd.DataFrame  # bus id -> EUR/MWh
    unserved_mw: pd.DataFrame  # bus id -> MW shed
    summary: dict[str, Any]


def _r(x: float, nd: int = 4) -> float:
    return round(float(x), nd)


def hourly_frames(n: pypsa.Network, first: int, last: int) -> tuple[pd.DataFrame, ...]:
    """Flows, prices, unserved energy and generation of hours ``first``..``last``."""
    sl = slice(first, last + 1)
    flows = n.links_t.p0.iloc[sl].copy()
    prices = n.buses_t.marginal_price.iloc[sl].copy()
    gen = n.generators_t.p.iloc[sl].copy()
    shed = gen.filter(like="shed ").rename(columns=lambda c: c.removeprefix("shed "))
    loads = n.loads_t.p_set.iloc[sl].rename(columns=lambda c: c.removeprefix("load "))
    return flows, prices, shed, gen, loads


def window_metrics(n: pypsa.Network, data: EnergyData, first: int, last: int) -> dict[str, Any]:
    """Per-bus cost, unserved energy and consumer cost of a window, for comparing outages."""
    flows, prices, shed, gen, loads = hourly_frames(n, first, last)
    cost = float((gen * n.generators.marginal_cost.reindex(gen.columns)).sum().sum())
    cost += float((flows.clip(lower=0) * n.links.marginal_cost.reindex(flows.columns)).sum().sum())
    cost += float((-flows.clip(upper=0) * n.links.marginal_cost.reindex(flows.columns)).sum().sum())
    buses: dict[str, dict[str, float]] = {}
    for bus in loads.columns:
        served = loads[bus] - shed.get(bus, 0.0)
        buses[bus] = {
            "load_mwh": float(loads[bus].sum()),
            "unserved_mwh": float(shed[bus].sum()) if bus in shed else 0.0,
            "consumer_cost_eur": float((served * prices[bus]).sum()),
            "price_eur_per_mwh": float(
                (loads[bus] * prices[bus]).sum() / max(loads[bus].sum(), 1e-9)
            ),
        }
    throughput = {
        a: float(flows[gas_link(next(s for s in segs if s.entry).segment_id)].sum())
        for a, segs in data.pipeline_assets().items()
    }
    return {"system_cost_eur": cost, "buses": buses, "throughput_mwh": throughput}


def extract(
    n: pypsa.Network,
    data: EnergyData,
    scenario: dict[str, Any],
    first: int = 0,
    last: int = HOURS - 1,
    outage: dict[str, Any] | None = None,
) -> Results:
    """Results of hours ``first``..``last`` of a solved network."""
    a = data.assumptions
    flows, prices, shed, gen, loads = hourly_frames(n, first, last)
    hours = last - first + 1
    mwh_per_bcm = a.twh_per_bcm * 1e6
    region = {c: k.region for c, k in data.countries.items()}
    buses = data.buses

    def coords(b0: str, b1: str) -> list[list[float]]:
        return [[buses[b0].lon_deg, buses[b0].lat_deg], [buses[b1].lon_deg, buses[b1].lat_deg]]

    segments: list[dict[str, Any]] = []
    for seg in data.pipelines.values():
        f = flows[gas_link(seg.segment_id)]
        cap = seg.capacity_bcm_per_yr * a.mw_per_bcm_per_yr()
        avail = n.get_switchable_as_dense("Link", "p_max_pu").iloc[first : last + 1][
            gas_link(seg.segment_id)
        ]
        segments.append(
            {
                "id": seg.segment_id,
                "asset": seg.asset,
                "carrier": "gas",
                "name": seg.name,
                "status": seg.status,
                "bus0": seg.bus0,
                "bus1": seg.bus1,
                "coordinates": coords(seg.bus0, seg.bus1),
                "flow": _r(f.sum() / mwh_per_bcm),
                "unit": "bcm",
                "capacity": seg.capacity_bcm_per_yr,
                "capacity_unit": "bcm/yr",
                "utilisation": _r(f.abs().mean() / cap if cap else 0.0),
                "hours_at_capacity": int(((f.abs() >= 0.999 * cap * avail) & (avail > 0)).sum()),
                "entry": seg.entry,
            }
        )
    for cab in data.interconnectors.values():
        f = flows[cable_link(cab.asset)]
        segments.append(
            {
                "id": cab.asset,
                "asset": cab.asset,
                "carrier": "electricity",
                "name": cab.name,
                "status": cab.status,
                "bus0": cab.bus0,
                "bus1": cab.bus1,
                "coordinates": coords(cab.bus0, cab.bus1),
                "flow": _r(f.sum() / 1e6),
                "unit": "TWh",
                "forward": _r(f.clip(lower=0).sum() / 1e6),
                "backward": _r(-f.clip(upper=0).sum() / 1e6),
                "capacity": cab.capacity_mw,
                "capacity_unit": "MW",
                "utilisation": _r(f.abs().mean() / cab.capacity_mw if cab.capacity_mw else 0.0),
                "hours_at_capacity": int((f.abs() >= 0.999 * cab.capacity_mw).sum()),
                "entry": True,
            }
        )
    pipelines = [
        {
            "asset": s["asset"],
            "name": s["name"].split(" (")[0],
            "status": s["status"],
            "throughput_bcm": s["flow"],
            "throughput_bcm_per_yr": _r(s["flow"] * HOURS / hours),
            "capacity_bcm_per_yr": s["capacity"],
            "utilisation": s["utilisation"],
            "hours_at_capacity": s["hours_at_capacity"],
        }
        for s in segments
        if s["carrier"] == "gas" and s["entry"]
    ]
    # Gas balance per country: production, consumption (power plants included), net exports.
    balance: dict[str, dict[str, float]] = {}
    for code in data.countries:
        gas_bus = f"{code}-gas"
        if gas_bus not in buses:
            continue
        prod = sum(
            gen[supply_generator(sid)].sum()
            for sid, s in data.gas_supply.items()
            if s.bus == gas_bus and s.kind == "production"
        )
        imports = sum(
            gen[supply_generator(sid)].sum()
            for sid, s in data.gas_supply.items()
            if s.bus == gas_bus and s.kind != "production"
        )
        power = (
            flows[plant_component(code, "gas")].sum()
            if plant_component(code, "gas") in flows
            else 0.0
        )
        exports = 0.0
        for seg in data.pipelines.values():
            c0, c1 = buses[seg.bus0].country, buses[seg.bus1].country
            if c0 == code and c1 != code:
                exports += flows[gas_link(seg.segment_id)].sum()
            elif c1 == code and c0 != code:
                exports -= flows[gas_link(seg.segment_id)].sum()
        demand = loads[gas_bus].sum() if gas_bus in loads else 0.0
        balance[code] = {
            "production_bcm": _r(prod / mwh_per_bcm),
            "other_supply_bcm": _r(imports / mwh_per_bcm),
            "consumption_bcm": _r((demand + power) / mwh_per_bcm),
            "power_bcm": _r(power / mwh_per_bcm),
            "net_exports_bcm": _r(exports / mwh_per_bcm),
            "unserved_bcm": _r(shed[gas_bus].sum() / mwh_per_bcm if gas_bus in shed else 0.0),
        }
    co2: dict[str, float] = {}
    for (code, tech), _mw in data.generation.items():
        t = data.technologies[tech]
        comp = plant_component(code, tech)
        if tech == "gas" and comp in flows:
            fuel = flows[comp].sum()
        elif comp in gen:
            fuel = gen[comp].sum() / t.efficiency
        else:
            continue
        co2[code] = co2.get(code, 0.0) + fuel * t.co2_t_per_mwh_th / 1e6
    price_summary = {
        bus: {
            "mean": _r(prices[bus].mean(), 2),
            "load_weighted": _r((prices[bus] * loads[bus]).sum() / loads[bus].sum(), 2)
            if bus in loads and loads[bus].sum() > 0
            else _r(prices[bus].mean(), 2),
            "max": _r(prices[bus].max(), 2),
        }
        for bus in prices.columns
    }
    unserved = {bus: _r(shed[bus].sum(), 1) for bus in shed.columns}
    by_region: dict[str, dict[str, float]] = {}
    for bus, mwh in unserved.items():
        r = region[buses[bus].country]
        entry = by_region.setdefault(r, {"electricity_mwh": 0.0, "gas_mwh": 0.0})
        entry[f"{buses[bus].carrier}_mwh"] += mwh
    summary = {
        "scenario": scenario,
        "hours": hours,
        "first_hour": first,
        "last_hour": last,
        "start": str(n.snapshots[first]),
        "end": str(n.snapshots[last]),
        "outage": outage,
        "pipelines": pipelines,
        "segments": segments,
        "prices": price_summary,
        "unserved_mwh": unserved,
        "unserved_by_region": by_region,
        "unserved_total_mwh": _r(sum(unserved.values()), 1),
        "co2_mt": {k: _r(v) for k, v in sorted(co2.items())},
        "co2_total_mt": _r(sum(co2.values())),
        "gas_balance": balance,
    }
    return Results(flows, prices, shed, summary)


def save(results: Results, directory: Path) -> Path:
    """Write ``summary.json`` and ``hourly.csv.gz`` into ``directory`` (created if missing)."""
    directory.mkdir(parents=True, exist_ok=True)
    hourly = pd.concat(
        {"flow": results.flows_mw, "price": results.prices, "unserved": results.unserved_mw},
        axis=1,
    )
    hourly.to_csv(directory / HOURLY, float_format="%.3f")
    tmp = directory / (SUMMARY + ".tmp")
    tmp.write_text(json.dumps(results.summary, indent=1), encoding="utf-8")
    tmp.replace(directory / SUMMARY)
    return directory


def load_summary(directory: Path) -> dict[str, Any] | None:
    """The summary of a saved run, or None when there is none."""
    path = directory / SUMMARY
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text(encoding="utf-8"))
    return data


def load(directory: Path) -> Results | None:
    """A saved run with its hourly frames, or None."""
    summary = load_summary(directory)
    if summary is None or not (directory / HOURLY).is_file():
        return None
    hourly = pd.read_csv(directory / HOURLY, header=[0, 1], index_col=0, parse_dates=True)
    return Results(hourly["flow"], hourly["price"], hourly["unserved"], summary)
