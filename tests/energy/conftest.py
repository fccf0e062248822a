"""Helpers for the energy tests: a copy of the shipped data to break, and a tiny hand-made corridor."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corridor.energy.data import DATA_DIR

# A two-country gas system small enough to work out by hand (see test_model.py).
MINI = {
    "buses.csv": """bus_id,carrier,country,name,lat_deg,lon_deg,source
AZ-gas,gas,AZ,producer,40,49,est-en-centroid
GE-gas,gas,GE,consumer,42,44,est-en-centroid
GE-el,electricity,GE,consumer power,42,44,est-en-centroid
""",
    "pipelines.csv": """segment_id,asset,name,bus0,bus1,capacity_bcm_per_yr,length_km,status,entry,bidirectional,tariff_eur_per_mwh,source,note
p1,p1,Pipe,AZ-gas,GE-gas,3.0,500,operating,yes,no,1.0,est-en-tariff,
p2,p2,Planned pipe,AZ-gas,GE-gas,2.0,500,planned,yes,no,1.0,est-en-tariff,
""",
    "interconnectors.csv": "asset,name,bus0,bus1,capacity_mw,length_km,status,kind,source,note\n",
    "technologies.csv": """technology,fuel,efficiency,fuel_cost_eur_per_mwh_th,vom_eur_per_mwh,co2_t_per_mwh_th,profile,source,note
gas,gas,0.5,0,2.5,0.202,flat,est-en-costs,
""",
    "countries.csv": """country,name,region,el_demand_twh_per_yr,gas_demand_bcm_per_yr,gas_power_share,gas_production_bcm_per_yr,co2_price_eur_per_t,wind_cf,solar_cf,hydro_cf,heating_amplitude,production_swing,source,note
AZ,Producer,south_caucasus,0,0,0,10,0,0,0,0,0,0,est-en-gas-balances,
GE,Consumer,europe,8.76,5,0,0,0,0,0,0,0,0,est-en-gas-balances,
""",
    "generation.csv": """country,technology,capacity_mw,source
GE,gas,5000,est-en-costs
""",
    "gas_supply.csv": """supply_id,bus,kind,name,capacity_bcm_per_yr,price_eur_per_mwh,source
az-prod,AZ-gas,production,production,,12,est-en-gas-prices
ge-imports,GE-gas,import,imports,IMPORTS,40,est-en-gas-prices
""",
    "assumptions.toml": """twh_per_bcm = 10.55
voll_electricity_eur_per_mwh = 3000.0
voll_gas_eur_per_mwh = 400.0
window_hours = 2190
""",
}


def write_mini(directory: Path, imports_bcm: float = 100.0) -> Path:
    directory.mkdir(parents=True, exist_ok=True)
    for name, text in MINI.items():
        (directory / name).write_text(text.replace("IMPORTS", f"{imports_bcm:g}"), encoding="utf-8")
    return directory


@pytest.fixture
def data_copy(tmp_path: Path) -> Path:
    """A writable copy of the shipped energy data (sources resolve to the shipped sources.csv)."""
    target = tmp_path / "energy"
    shutil.copytree(DATA_DIR, target)
    return target
