"""Scenarios as TOML files: which planned assets are on, and which figures change.

A shipped scenario is named (``2025``, ``2030``); a user-made one is a path to a ``.toml`` file with
the same keys. Every key is checked, so a typo or a capacity in the wrong unit is an error naming the
file and key, not a silently ignored line.
"""

from __future__ import annotations

import dataclasses
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corridor.energy.data import DATA_DIR, EnergyData
from corridor.energy.errors import EnergyDataError, EnergyError
from corridor.network.problems import Problem

SCENARIO_DIR = DATA_DIR / "scenarios"

_KEYS = {
    "name",
    "description",
    "year",
    "enable",
    "pipeline_capacity_bcm_per_yr",
    "interconnector_capacity_mw",
    "gas_production_bcm_per_yr",
    "generation_mw",
    "demand_scale",
    "co2_price_eur_per_t",
}
_WRONG_UNIT = {
    "pipeline_capacity_mw": "pipeline_capacity_bcm_per_yr",
    "pipeline_capacity_gw": "pipeline_capacity_bcm_per_yr",
    "pipeline_capacity": "pipeline_capacity_bcm_per_yr",
    "interconnector_capacity_bcm_per_yr": "interconnector_capacity_mw",
    "interconnector_capacity_gw": "interconnector_capacity_mw",
    "interconnector_capacity": "interconnector_capacity_mw",
    "generation_gw": "generation_mw",
    "gas_production_twh_per_yr": "gas_production_bcm_per_yr",
}


@dataclass(frozen=True)
class Scenario:
    """A checked scenario."""

    name: str
    description: str
    year: int
    enable: tuple[str, ...] = ()
    pipeline_capacity_bcm_per_yr: dict[str, float] = field(default_factory=dict)
    interconnector_capacity_mw: dict[str, float] = field(default_factory=dict)
    gas_production_bcm_per_yr: dict[str, float] = field(default_factory=dict)
    generation_mw: dict[tuple[str, str], float] = field(default_factory=dict)
    demand_scale: dict[str, float] = field(default_factory=dict)
    co2_price_eur_per_t: dict[str, float] = field(default_factory=dict)


def shipped_scenarios() -> list[str]:
    """Names of the scenarios shipped with Corridor."""
    return sorted(p.stem for p in SCENARIO_DIR.glob("*.toml"))


def scenario_path(name_or_path: str) -> Path:
    """The file of a shipped scenario name, or the given path; unknown names are an error."""
    shipped = SCENARIO_DIR / f"{name_or_path}.toml"
    if shipped.is_file():
        return shipped
    path = Path(name_or_path)
    if path.suffix == ".toml" and path.is_file():
        return path
    raise EnergyError(
        "not_found",
        "scenario",
        f"unknown scenario {name_or_path!r}; shipped: {', '.join(shipped_scenarios())}, "
        "or give the path of a .toml file",
    )


def _number_table(
    problems: list[Problem], fname: str, key: str, value: Any, known: set[str] | None, what: str
) -> dict[str, float]:
    out: dict[str, float] = {}
    if not isinstance(value, dict):
        problems.append(Problem(fname, None, None, key, "must be a table of id = number"))
        return out
    for k, v in value.items():
        if known is not None and k not in known:
            problems.append(Problem(fname, None, k, key, f"unknown {what} {k!r}"))
        elif isinstance(v, bool) or not isinstance(v, int | float) or v < 0 or v != v:
            problems.append(Problem(fname, None, k, key, f"needs a number >= 0, got {v!r}"))
        else:
            out[k] = float(v)
    return out


def load_scenario(name_or_path: str, data: EnergyData) -> Scenario:
    """Read and check a scenario against ``data``; raise ``EnergyDataError`` with every problem."""
    path = scenario_path(name_or_path)
    fname = path.name
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise EnergyDataError(
            [Problem(fname, None, None, None, f"not valid TOML: {exc}")]
        ) from None
    except (OSError, UnicodeDecodeError) as exc:
        raise EnergyDataError([Problem(fname, None, None, None, f"unreadable: {exc}")]) from None
    problems: list[Problem] = []
    for key in raw:
        if key in _WRONG_UNIT:
            problems.append(
                Problem(
                    fname, None, None, key, f"wrong unit: give capacities as {_WRONG_UNIT[key]!r}"
                )
            )
        elif key not in _KEYS:
            problems.append(Problem(fname, None, None, key, "unknown key"))
    name = raw.get("name", path.stem)
    year = raw.get("year")
    if not isinstance(year, int) or isinstance(year, bool) or not 2000 <= year <= 2100:
        problems.append(Problem(fname, None, None, "year", "needs a year between 2000 and 2100"))
        year = 2025
    assets = set(data.pipeline_assets()) | set(data.interconnectors)
    enable = raw.get("enable", [])
    if not isinstance(enable, list) or not all(isinstance(a, str) for a in enable):
        problems.append(Problem(fname, None, None, "enable", "must be a list of asset ids"))
        enable = []
    for asset in enable:
        if asset not in assets:
            problems.append(Problem(fname, None, asset, "enable", f"unknown asset {asset!r}"))
    pipes = _number_table(
        problems,
        fname,
        "pipeline_capacity_bcm_per_yr",
        raw.get("pipeline_capacity_bcm_per_yr", {}),
        set(data.pipelines),
        "pipeline segment",
    )
    cables = _number_table(
        problems,
        fname,
        "interconnector_capacity_mw",
        raw.get("interconnector_capacity_mw", {}),
        set(data.interconnectors),
        "interconnector",
    )
    prod = _number_table(
        problems,
        fname,
        "gas_production_bcm_per_yr",
        raw.get("gas_production_bcm_per_yr", {}),
        set(data.countries),
        "country",
    )
    co2 = _number_table(
        problems,
        fname,
        "co2_price_eur_per_t",
        raw.get("co2_price_eur_per_t", {}),
        set(data.countries),
        "country",
    )
    scale = _number_table(
        problems,
        fname,
        "demand_scale",
        raw.get("demand_scale", {}),
        {"electricity", "gas"},
        "carrier",
    )
    gen: dict[tuple[str, str], float] = {}
    for key, value in _number_table(
        problems, fname, "generation_mw", raw.get("generation_mw", {}), None, "plant"
    ).items():
        country, _, tech = key.partition(".")
        if f"{country}-el" not in data.buses:
            problems.append(
                Problem(
                    fname,
                    None,
                    key,
                    "generation_mw",
                    f"unknown country {country!r} (write COUNTRY.technology)",
                )
            )
        elif tech not in data.technologies:
            problems.append(
                Problem(fname, None, key, "generation_mw", f"unknown technology {tech!r}")
            )
        else:
            gen[(country, tech)] = value
    if problems:
        raise EnergyDataError(problems)
    return Scenario(
        name=str(name),
        description=str(raw.get("description", "")),
        year=year,
        enable=tuple(enable),
        pipeline_capacity_bcm_per_yr=pipes,
        interconnector_capacity_mw=cables,
        gas_production_bcm_per_yr=prod,
        generation_mw=gen,
        demand_scale=scale,
        co2_price_eur_per_t=co2,
    )


def apply(data: EnergyData, scenario: Scenario) -> EnergyData:
    """The data as the scenario sees it: planned assets on or off, its figures in place."""
    on = set(scenario.enable)
    pipes = {
        k: dataclasses.replace(
            p,
            capacity_bcm_per_yr=scenario.pipeline_capacity_bcm_per_yr.get(k, p.capacity_bcm_per_yr),
        )
        for k, p in data.pipelines.items()
        if p.status == "operating" or p.asset in on
    }
    cables = {
        k: dataclasses.replace(
            c, capacity_mw=scenario.interconnector_capacity_mw.get(k, c.capacity_mw)
        )
        for k, c in data.interconnectors.items()
        if c.status == "operating" or k in on
    }
    el = scenario.demand_scale.get("electricity", 1.0)
    gas = scenario.demand_scale.get("gas", 1.0)
    countries = {
        k: dataclasses.replace(
            c,
            el_demand_twh_per_yr=c.el_demand_twh_per_yr * el,
            gas_demand_bcm_per_yr=c.gas_demand_bcm_per_yr * gas,
            gas_production_bcm_per_yr=scenario.gas_production_bcm_per_yr.get(
                k, c.gas_production_bcm_per_yr
            ),
            co2_price_eur_per_t=scenario.co2_price_eur_per_t.get(k, c.co2_price_eur_per_t),
        )
        for k, c in data.countries.items()
    }
    return dataclasses.replace(
        data,
        pipelines=pipes,
        interconnectors=cables,
        countries=countries,
        generation={**data.generation, **scenario.generation_mw},
    )
