"""One schema table per data file: it drives reading, validation and the docs table.

Units live in the column names (``capacity_bcm_per_yr``, ``capacity_mw``), so a file written with the
wrong unit is caught as a missing column, and the reader names the column it found instead.
"""

from __future__ import annotations

import csv
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from corridor.network.problems import Problem


@dataclass(frozen=True)
class Column:
    """One column: its name (with the unit), its type and what it means."""

    name: str
    kind: str  # "str", "float", "bool" or "choice"
    doc: str
    required: bool = True
    choices: tuple[str, ...] = ()
    minimum: float | None = 0.0
    maximum: float | None = None


STATUS = ("operating", "planned", "proposed")

SCHEMAS: dict[str, tuple[Column, ...]] = {
    "buses.csv": (
        Column("bus_id", "str", "Bus id, `<country>-el`, `<country>-gas` or a named gas hub"),
        Column("carrier", "choice", "electricity or gas", choices=("electricity", "gas")),
        Column("country", "str", "ISO 3166-1 alpha-2 code of the country the bus lies in"),
        Column("name", "str", "Human name"),
        Column("lat_deg", "float", "Latitude of the drawing point", minimum=-90, maximum=90),
        Column("lon_deg", "float", "Longitude of the drawing point", minimum=-180, maximum=180),
        Column("source", "str", "Source id(s), `;`-separated"),
    ),
    "pipelines.csv": (
        Column("segment_id", "str", "Segment id (a pipeline asset has one or more segments)"),
        Column("asset", "str", "Asset id; an outage takes out every segment of the asset"),
        Column("name", "str", "Human name"),
        Column("bus0", "str", "Gas bus the flow leaves"),
        Column("bus1", "str", "Gas bus the flow reaches"),
        Column("capacity_bcm_per_yr", "float", "Capacity, billion m3 per year at a flat rate"),
        Column("length_km", "float", "Length"),
        Column("status", "choice", "operating, planned or proposed", choices=STATUS),
        Column(
            "entry",
            "choice",
            "yes on the segment whose flow is the asset's throughput",
            choices=("yes", "no"),
        ),
        Column(
            "bidirectional", "choice", "yes if gas may flow bus1 -> bus0", choices=("yes", "no")
        ),
        Column("tariff_eur_per_mwh", "float", "Transport tariff charged on the flow"),
        Column("source", "str", "Source id(s), `;`-separated"),
        Column("note", "str", "Free note", required=False),
    ),
    "interconnectors.csv": (
        Column("asset", "str", "Asset id"),
        Column("name", "str", "Human name"),
        Column("bus0", "str", "Electricity bus at one end"),
        Column("bus1", "str", "Electricity bus at the other end"),
        Column("capacity_mw", "float", "Net transfer capacity each way"),
        Column("length_km", "float", "Length"),
        Column("status", "choice", "operating, planned or proposed", choices=STATUS),
        Column("kind", "choice", "ac or hvdc", choices=("ac", "hvdc")),
        Column("source", "str", "Source id(s), `;`-separated"),
        Column("note", "str", "Free note", required=False),
    ),
    "technologies.csv": (
        Column("technology", "str", "Technology id"),
        Column("fuel", "str", "Fuel burnt (gas plants burn the gas bus's gas)"),
        Column("efficiency", "float", "Electricity out per fuel in", maximum=1.0),
        Column("fuel_cost_eur_per_mwh_th", "float", "Fuel price per MWh of fuel"),
        Column("vom_eur_per_mwh", "float", "Variable operation cost per MWh of electricity"),
        Column("co2_t_per_mwh_th", "float", "CO2 per MWh of fuel"),
        Column(
            "profile", "choice", "Availability profile", choices=("flat", "wind", "solar", "hydro")
        ),
        Column("source", "str", "Source id(s), `;`-separated"),
        Column("note", "str", "Free note", required=False),
    ),
    "countries.csv": (
        Column("country", "str", "ISO 3166-1 alpha-2 code"),
        Column("name", "str", "Human name"),
        Column(
            "region",
            "choice",
            "Region the harm of an outage is summed over",
            choices=("central_asia", "south_caucasus", "turkiye", "europe", "china"),
        ),
        Column("el_demand_twh_per_yr", "float", "Annual electricity demand"),
        Column("gas_demand_bcm_per_yr", "float", "Annual gas consumption, power plants included"),
        Column(
            "gas_power_share",
            "float",
            "Share of the gas consumption burnt in power plants",
            maximum=1.0,
        ),
        Column("gas_production_bcm_per_yr", "float", "Marketable gas production"),
        Column("co2_price_eur_per_t", "float", "Carbon price paid by power plants"),
        Column("wind_cf", "float", "Wind capacity factor (annual mean)", maximum=1.0),
        Column("solar_cf", "float", "Solar capacity factor (annual mean)", maximum=1.0),
        Column("hydro_cf", "float", "Hydro capacity factor (annual mean)", maximum=1.0),
        Column(
            "heating_amplitude",
            "float",
            "Winter swing of gas demand (0 flat, 1 strong)",
            maximum=1.0,
        ),
        Column(
            "production_swing",
            "float",
            "Winter-high swing of gas output plus storage withdrawal (0 flat); annual total kept",
            maximum=0.9,
        ),
        Column("source", "str", "Source id(s), `;`-separated"),
        Column("note", "str", "Free note", required=False),
    ),
    "generation.csv": (
        Column("country", "str", "Country code (its `-el` bus)"),
        Column("technology", "str", "Technology id of technologies.csv"),
        Column("capacity_mw", "float", "Installed capacity"),
        Column("source", "str", "Source id(s), `;`-separated"),
    ),
    "gas_supply.csv": (
        Column("supply_id", "str", "Supply id"),
        Column("bus", "str", "Gas bus supplied"),
        Column(
            "kind",
            "choice",
            "production (capacity from countries.csv), import or scarcity",
            choices=("production", "import", "scarcity"),
        ),
        Column("name", "str", "Human name"),
        Column("capacity_bcm_per_yr", "float", "Capacity (empty for production)", required=False),
        Column("price_eur_per_mwh", "float", "Price of this supply"),
        Column("source", "str", "Source id(s), `;`-separated"),
    ),
}


def _unit_hint(missing: str, header: list[str]) -> str:
    stem = missing.split("_")[0]
    near = [h for h in header if h.split("_")[0] == stem and h != missing]
    if near:
        return f"missing column {missing!r}; found {near[0]!r}: wrong unit? give it as {missing!r}"
    return f"missing column {missing!r}"


def _convert(col: Column, raw: str) -> tuple[Any, str | None]:
    if col.kind == "float":
        try:
            value = float(raw)
        except ValueError:
            return None, f"not a number: {raw!r} (the unit is in the column name)"
        if not math.isfinite(value):
            return None, f"not a finite number: {raw!r}"
        if col.minimum is not None and value < col.minimum:
            return None, f"{value:g} is below the minimum {col.minimum:g}"
        if col.maximum is not None and value > col.maximum:
            return None, f"{value:g} is above the maximum {col.maximum:g}"
        return value, None
    if col.kind == "choice" and raw not in col.choices:
        return None, f"{raw!r} is not one of {', '.join(col.choices)}"
    return raw, None


def read_table(path: Path, problems: list[Problem]) -> list[tuple[int, dict[str, Any]]]:
    """Rows of ``path`` as (line number, typed values); every problem goes into ``problems``."""
    name = path.name
    schema = SCHEMAS[name]
    if not path.is_file():
        problems.append(Problem(name, None, None, None, "file missing"))
        return []
    rows: list[tuple[int, dict[str, Any]]] = []
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            reader = csv.reader(handle)
            header = [h.strip() for h in next(reader, [])]
            known = {c.name for c in schema}
            for col in schema:
                if col.required and col.name not in header:
                    problems.append(Problem(name, 1, None, col.name, _unit_hint(col.name, header)))
            for extra in header:
                if extra not in known:
                    problems.append(Problem(name, 1, None, extra, "unknown column"))
            if any(p.file == name and p.line == 1 for p in problems):
                return []
            for line, cells in enumerate(reader, start=2):
                if not cells or all(not c.strip() for c in cells):
                    continue
                if len(cells) != len(header):
                    problems.append(
                        Problem(
                            name,
                            line,
                            cells[0],
                            None,
                            f"{len(cells)} fields where the header has {len(header)}",
                        )
                    )
                    continue
                row: dict[str, Any] = {}
                ok = True
                for col in schema:
                    raw = cells[header.index(col.name)].strip() if col.name in header else ""
                    if raw == "":
                        if col.required:
                            problems.append(Problem(name, line, cells[0], col.name, "empty"))
                            ok = False
                        row[col.name] = None
                        continue
                    value, error = _convert(col, raw)
                    if error:
                        problems.append(Problem(name, line, cells[0], col.name, error))
                        ok = False
                    row[col.name] = value
                if ok:
                    rows.append((line, row))
    except (UnicodeDecodeError, csv.Error) as exc:
        problems.append(Problem(name, None, None, None, f"unreadable: {exc}"))
    return rows


def schema_markdown() -> str:
    """The schema tables as Markdown, for docs/energy.md."""
    out: list[str] = []
    for name, cols in SCHEMAS.items():
        out.append(f"\n`{name}`\n\n| column | meaning |\n|---|---|")
        out.extend(f"| `{c.name}` | {c.doc} |" for c in cols)
    return "\n".join(out)
