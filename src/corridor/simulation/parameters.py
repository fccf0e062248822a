"""The simulation's own figures, read from ``data/simulation/*.csv`` (each row names its source).

Kept apart from the network dataset because they describe how the model runs (servers, fleets,
handling rates, the cargo mix), not the infrastructure; every row cites ``sources.csv``.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

DATA_DIR = Path(__file__).resolve().parent.parent / "data" / "simulation"


@dataclass(frozen=True)
class Fleet:
    service: str
    vessels: int
    rule: str  # "loaded" | "schedule"
    load_factor: float
    max_wait_h: float
    source: str


@dataclass(frozen=True)
class MixItem:
    id: str
    hs_code: str
    origin_country: str
    value_usd_per_kg: float
    aeo_share: float
    share: float


@dataclass(frozen=True)
class Parameters:
    """Figures by name (``parameters.csv``), servers and capacities by (kind, id), fleets, mix."""

    values: dict[str, float]
    servers: dict[tuple[str, str], int]
    capacity: dict[tuple[str, str], float]
    fleet: dict[str, Fleet]
    mix: tuple[MixItem, ...]
    sources: dict[str, str]  # "parameter:<name>" / "<kind>:<id>" / "fleet:<service>" -> source id

    def value(self, name: str) -> float:
        return self.values[name]

    def servers_for(self, kind: str, ident: str) -> int:
        return self.servers.get((kind, ident), self.servers.get((kind, "*"), 1))

    def capacity_for(self, kind: str, ident: str) -> float | None:
        return self.capacity.get((kind, ident), self.capacity.get((kind, "*")))


def _rows(name: str, directory: Path) -> list[dict[str, str]]:
    with (directory / name).open(newline="", encoding="utf-8") as handle:
        return list(csv.DictReader(handle))


@lru_cache(maxsize=4)
def load_parameters(directory: Path = DATA_DIR) -> Parameters:
    """Read the four files; cached because every replication of a run needs the same figures."""
    values: dict[str, float] = {}
    sources: dict[str, str] = {}
    for row in _rows("parameters.csv", directory):
        values[row["name"]] = float(row["value"])
        sources[f"parameter:{row['name']}"] = row["source"]
    servers: dict[tuple[str, str], int] = {}
    capacity: dict[tuple[str, str], float] = {}
    for row in _rows("resources.csv", directory):
        key = (row["kind"], row["id"])
        servers[key] = int(row["servers"])
        if row["capacity_per_year"]:
            capacity[key] = float(row["capacity_per_year"])
        sources[f"{row['kind']}:{row['id']}"] = row["source"]
    fleet: dict[str, Fleet] = {}
    for row in _rows("fleet.csv", directory):
        fleet[row["service"]] = Fleet(
            row["service"],
            int(row["vessels"]),
            row["rule"],
            float(row["load_factor"] or 0.85),
            float(row["max_wait_h"] or 48),
            row["source"],
        )
        sources[f"fleet:{row['service']}"] = row["source"]
    mix = tuple(
        MixItem(
            r["id"],
            r["hs_code"],
            r["origin_country"],
            float(r["value_usd_per_kg"]),
            float(r["aeo_share"]),
            float(r["share"]),
        )
        for r in _rows("cargo_mix.csv", directory)
    )
    return Parameters(values, servers, capacity, fleet, mix, sources)
