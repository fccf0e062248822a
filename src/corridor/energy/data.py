"""The energy corridor as sourced data: buses, pipelines, cables, plants, demand and supply.

Read from ``src/corridor/data/energy`` (or another directory), checked as a whole, and every problem
reported with its file, line, record, field and reason before anything is modelled.
"""

from __future__ import annotations

import csv
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from corridor.energy.errors import EnergyDataError
from corridor.energy.schema import read_table
from corridor.network.problems import Problem

#: The shipped energy data.
DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "energy"
SOURCES_CSV = DATA_DIR.parent / "sources.csv"


@dataclass(frozen=True)
class Bus:
    bus_id: str
    carrier: str
    country: str
    name: str
    lat_deg: float
    lon_deg: float


@dataclass(frozen=True)
class Pipeline:
    """One segment of a gas pipeline asset (a link in the transport model)."""

    segment_id: str
    asset: str
    name: str
    bus0: str
    bus1: str
    capacity_bcm_per_yr: float
    length_km: float
    status: str
    entry: bool
    bidirectional: bool
    tariff_eur_per_mwh: float


@dataclass(frozen=True)
class Interconnector:
    """An electricity interconnector or cable, modelled by its net transfer capacity each way."""

    asset: str
    name: str
    bus0: str
    bus1: str
    capacity_mw: float
    length_km: float
    status: str
    kind: str


@dataclass(frozen=True)
class Technology:
    technology: str
    fuel: str
    efficiency: float
    fuel_cost_eur_per_mwh_th: float
    vom_eur_per_mwh: float
    co2_t_per_mwh_th: float
    profile: str


@dataclass(frozen=True)
class Country:
    country: str
    name: str
    region: str
    el_demand_twh_per_yr: float
    gas_demand_bcm_per_yr: float
    gas_power_share: float
    gas_production_bcm_per_yr: float
    co2_price_eur_per_t: float
    wind_cf: float
    solar_cf: float
    hydro_cf: float
    heating_amplitude: float
    production_swing: float


@dataclass(frozen=True)
class GasSupply:
    supply_id: str
    bus: str
    kind: str
    name: str
    capacity_bcm_per_yr: float | None
    price_eur_per_mwh: float


@dataclass(frozen=True)
class Assumptions:
    """Modelling constants of ``assumptions.toml``."""

    twh_per_bcm: float
    voll_electricity_eur_per_mwh: float
    voll_gas_eur_per_mwh: float
    window_hours: int

    def mw_per_bcm_per_yr(self, hours: int = 8760) -> float:
        """Flat flow (MW) that carries 1 bcm in a year of ``hours`` hours."""
        return self.twh_per_bcm * 1e6 / hours


@dataclass(frozen=True)
class EnergyData:
    """Everything the model is built from; scenarios derive new instances with ``replace``."""

    buses: dict[str, Bus]
    pipelines: dict[str, Pipeline]
    interconnectors: dict[str, Interconnector]
    technologies: dict[str, Technology]
    countries: dict[str, Country]
    generation: dict[tuple[str, str], float]
    gas_supply: dict[str, GasSupply]
    assumptions: Assumptions
    directory: Path = field(default=DATA_DIR)

    def pipeline_assets(self) -> dict[str, list[Pipeline]]:
        """Segments grouped by asset id."""
        out: dict[str, list[Pipeline]] = {}
        for seg in self.pipelines.values():
            out.setdefault(seg.asset, []).append(seg)
        return out


def _source_ids(path: Path) -> set[str]:
    if not path.is_file():
        return set()
    with path.open(newline="", encoding="utf-8") as handle:
        return {row["id"] for row in csv.DictReader(handle) if row.get("id")}


def _check_sources(
    name: str,
    rows: list[tuple[int, dict[str, Any]]],
    key: str,
    known: set[str],
    problems: list[Problem],
) -> None:
    for line, row in rows:
        for ref in str(row.get("source") or "").split(";"):
            if ref.strip() and ref.strip() not in known:
                problems.append(Problem(name, line, row[key], "source", f"unknown source {ref!r}"))


def _unique(
    name: str, rows: list[tuple[int, dict[str, Any]]], key: str, problems: list[Problem]
) -> dict[str, tuple[int, dict[str, Any]]]:
    out: dict[str, tuple[int, dict[str, Any]]] = {}
    for line, row in rows:
        if row[key] in out:
            problems.append(
                Problem(name, line, row[key], key, f"duplicate (first on line {out[row[key]][0]})")
            )
        else:
            out[row[key]] = (line, row)
    return out


def load_assumptions(path: Path) -> Assumptions:
    """Read ``assumptions.toml``; a missing or wrong value is reported with the file and key."""
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise EnergyDataError(
            [Problem(path.name, None, None, None, f"unreadable: {exc}")]
        ) from None
    problems: list[Problem] = []
    values: dict[str, float] = {}
    for key in (
        "twh_per_bcm",
        "voll_electricity_eur_per_mwh",
        "voll_gas_eur_per_mwh",
        "window_hours",
    ):
        value = raw.get(key)
        if not isinstance(value, int | float) or isinstance(value, bool) or value <= 0:
            problems.append(Problem(path.name, None, None, key, "needs a positive number"))
        else:
            values[key] = float(value)
    if problems:
        raise EnergyDataError(problems)
    return Assumptions(
        values["twh_per_bcm"],
        values["voll_electricity_eur_per_mwh"],
        values["voll_gas_eur_per_mwh"],
        int(values["window_hours"]),
    )


def load_energy_data(directory: Path | None = None, sources_csv: Path | None = None) -> EnergyData:
    """Read and check the data files; raise ``EnergyDataError`` listing every problem."""
    directory = directory or DATA_DIR
    sources = _source_ids(sources_csv or (directory.parent / "sources.csv"))
    if not sources:
        sources = _source_ids(SOURCES_CSV)
    problems: list[Problem] = []
    tables = {
        name: read_table(directory / name, problems)
        for name in (
            "buses.csv",
            "pipelines.csv",
            "interconnectors.csv",
            "technologies.csv",
            "countries.csv",
            "generation.csv",
            "gas_supply.csv",
        )
    }
    keys = {
        "buses.csv": "bus_id",
        "pipelines.csv": "segment_id",
        "interconnectors.csv": "asset",
        "technologies.csv": "technology",
        "countries.csv": "country",
        "generation.csv": "country",
        "gas_supply.csv": "supply_id",
    }
    for name, rows in tables.items():
        _check_sources(name, rows, keys[name], sources, problems)
    buses = _unique("buses.csv", tables["buses.csv"], "bus_id", problems)
    countries = _unique("countries.csv", tables["countries.csv"], "country", problems)
    techs = _unique("technologies.csv", tables["technologies.csv"], "technology", problems)
    segments = _unique("pipelines.csv", tables["pipelines.csv"], "segment_id", problems)
    cables = _unique("interconnectors.csv", tables["interconnectors.csv"], "asset", problems)
    supplies = _unique("gas_supply.csv", tables["gas_supply.csv"], "supply_id", problems)

    def bus_ok(name: str, line: int, rec: str, fld: str, bus: str, carrier: str) -> None:
        if bus not in buses:
            problems.append(Problem(name, line, rec, fld, f"unknown bus {bus!r}"))
        elif buses[bus][1]["carrier"] != carrier:
            problems.append(Problem(name, line, rec, fld, f"bus {bus!r} is not a {carrier} bus"))

    for line, row in buses.values():
        if row["country"] not in countries:
            problems.append(
                Problem(
                    "buses.csv",
                    line,
                    row["bus_id"],
                    "country",
                    f"unknown country {row['country']!r} (not in countries.csv)",
                )
            )
    for sid, (line, row) in segments.items():
        bus_ok("pipelines.csv", line, sid, "bus0", row["bus0"], "gas")
        bus_ok("pipelines.csv", line, sid, "bus1", row["bus1"], "gas")
        if row["bus0"] == row["bus1"]:
            problems.append(Problem("pipelines.csv", line, sid, "bus1", "same bus at both ends"))
    entries: dict[str, int] = {}
    for _, row in segments.values():
        entries[row["asset"]] = entries.get(row["asset"], 0) + (row["entry"] == "yes")
    for asset, count in entries.items():
        if count != 1:
            line = next(ln for ln, r in segments.values() if r["asset"] == asset)
            problems.append(
                Problem(
                    "pipelines.csv",
                    line,
                    asset,
                    "entry",
                    f"asset {asset!r} needs exactly one entry segment, has {count}",
                )
            )
    for aid, (line, row) in cables.items():
        bus_ok("interconnectors.csv", line, aid, "bus0", row["bus0"], "electricity")
        bus_ok("interconnectors.csv", line, aid, "bus1", row["bus1"], "electricity")
        if aid in entries:
            problems.append(
                Problem(
                    "interconnectors.csv", line, aid, "asset", "asset id also used by a pipeline"
                )
            )
    generation: dict[tuple[str, str], float] = {}
    for line, row in tables["generation.csv"]:
        key = (row["country"], row["technology"])
        if row["country"] not in countries:
            problems.append(
                Problem(
                    "generation.csv",
                    line,
                    row["country"],
                    "country",
                    f"unknown country {row['country']!r}",
                )
            )
        elif f"{row['country']}-el" not in buses:
            problems.append(
                Problem(
                    "generation.csv",
                    line,
                    row["country"],
                    "country",
                    f"no electricity bus {row['country']}-el",
                )
            )
        if row["technology"] not in techs:
            problems.append(
                Problem(
                    "generation.csv",
                    line,
                    row["country"],
                    "technology",
                    f"unknown technology {row['technology']!r}",
                )
            )
        if key in generation:
            problems.append(
                Problem(
                    "generation.csv",
                    line,
                    row["country"],
                    "technology",
                    f"{row['technology']} given twice for {row['country']}",
                )
            )
        generation[key] = row["capacity_mw"]
    for sid, (line, row) in supplies.items():
        bus_ok("gas_supply.csv", line, sid, "bus", row["bus"], "gas")
        if row["kind"] != "production" and row["capacity_bcm_per_yr"] is None:
            problems.append(Problem("gas_supply.csv", line, sid, "capacity_bcm_per_yr", "empty"))
        if row["kind"] == "production" and row["capacity_bcm_per_yr"] is not None:
            problems.append(
                Problem(
                    "gas_supply.csv",
                    line,
                    sid,
                    "capacity_bcm_per_yr",
                    "production takes its capacity from countries.csv; leave empty",
                )
            )
    assumptions = None
    try:
        assumptions = load_assumptions(directory / "assumptions.toml")
    except EnergyDataError as exc:
        problems.extend(exc.problems)
    if problems or assumptions is None:
        raise EnergyDataError(problems)
    return EnergyData(
        buses={
            k: Bus(**{f: r[f] for f in Bus.__dataclass_fields__}) for k, (_, r) in buses.items()
        },
        pipelines={
            k: Pipeline(
                **{
                    f: r[f]
                    for f in Pipeline.__dataclass_fields__
                    if f not in ("entry", "bidirectional")
                },
                entry=r["entry"] == "yes",
                bidirectional=r["bidirectional"] == "yes",
            )
            for k, (_, r) in segments.items()
        },
        interconnectors={
            k: Interconnector(**{f: r[f] for f in Interconnector.__dataclass_fields__})
            for k, (_, r) in cables.items()
        },
        technologies={
            k: Technology(**{f: r[f] for f in Technology.__dataclass_fields__})
            for k, (_, r) in techs.items()
        },
        countries={
            k: Country(**{f: r[f] for f in Country.__dataclass_fields__})
            for k, (_, r) in countries.items()
        },
        generation=generation,
        gas_supply={
            k: GasSupply(**{f: r[f] for f in GasSupply.__dataclass_fields__})
            for k, (_, r) in supplies.items()
        },
        assumptions=assumptions,
        directory=directory,
    )
