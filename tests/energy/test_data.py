"""The shipped energy data is complete and sourced; broken files are reported to the line."""

from __future__ import annotations

import csv

import pytest

from corridor.energy.data import DATA_DIR, SOURCES_CSV, load_energy_data
from corridor.energy.errors import EnergyDataError


def test_shipped_data_covers_the_corridor_countries_and_assets():
    data = load_energy_data()
    countries = {b.country for b in data.buses.values()}
    # The list: Central Asia, South Caucasus, Turkiye, South-East Europe, Italy, China (sink).
    assert {
        "KZ",
        "UZ",
        "TM",
        "AZ",
        "GE",
        "TR",
        "BG",
        "RO",
        "HU",
        "GR",
        "AL",
        "IT",
        "CN",
    } <= countries
    assets = data.pipeline_assets()
    assert {"scp", "tanap", "tap", "tcp", "cagp"} <= set(assets)
    assert data.pipelines["tcp"].status == "proposed"
    assert data.interconnectors["black-sea-cable"].status == "planned"
    # en-caliber-bsec: about 1,000 MW and 1,195 km.
    assert data.interconnectors["black-sea-cable"].capacity_mw == 1000
    assert data.interconnectors["black-sea-cable"].length_km == 1195


def test_every_row_names_a_source_that_exists():
    with SOURCES_CSV.open(newline="") as handle:
        known = {row["id"] for row in csv.DictReader(handle)}
    for path in DATA_DIR.glob("*.csv"):
        with path.open(newline="") as handle:
            for line, row in enumerate(csv.DictReader(handle), start=2):
                refs = [r for r in row["source"].split(";") if r]
                assert refs, f"{path.name}:{line} has no source"
                assert set(refs) <= known, f"{path.name}:{line}: {refs}"


def test_energy_source_ids_are_prefixed_and_estimates_say_how():
    with SOURCES_CSV.open(newline="") as handle:
        rows = [r for r in csv.DictReader(handle) if "en-" in r["id"]]
    assert len(rows) > 20
    for row in rows:
        assert row["id"].startswith(("en-", "est-en-")), row["id"]
        if row["kind"] == "estimate":
            assert len(row["note"]) > 30, row["id"]


def _problems(directory):
    with pytest.raises(EnergyDataError) as caught:
        load_energy_data(directory)
    return [str(p) for p in caught.value.problems]


def _edit(path, old, new):
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_a_capacity_in_the_wrong_unit_is_named(data_copy):
    _edit(data_copy / "pipelines.csv", "capacity_bcm_per_yr", "capacity_mw")
    problems = _problems(data_copy)
    assert any(
        "pipelines.csv:1" in p and "found 'capacity_mw'" in p and "wrong unit" in p
        for p in problems
    ), problems


def test_unknown_bus_non_number_and_duplicates_name_file_line_and_field(data_copy):
    _edit(
        data_copy / "pipelines.csv",
        "scp-az-ge,scp,South Caucasus Pipeline (Azerbaijan section),AZ-gas",
        "scp-az-ge,scp,South Caucasus Pipeline (Azerbaijan section),XX-gas",
    )
    _edit(data_copy / "interconnectors.csv", ",1000,600,", ",1 GW,600,")
    _edit(data_copy / "generation.csv", "KZ,gas,5000", "KZ,coal,5000")
    problems = _problems(data_copy)
    assert any(
        p.startswith("pipelines.csv:2, record 'scp-az-ge', field 'bus0'") and "XX-gas" in p
        for p in problems
    ), problems
    assert any(
        p.startswith("interconnectors.csv:2") and "capacity_mw" in p and "not a number" in p
        for p in problems
    ), problems
    assert any("generation.csv" in p and "coal given twice for KZ" in p for p in problems), problems


def test_a_malformed_row_and_an_unknown_source_are_reported(data_copy):
    with (data_copy / "buses.csv").open("a", encoding="utf-8") as handle:
        handle.write("XX-el,electricity,KZ\n")
    _edit(
        data_copy / "countries.csv",
        "en-ember-2024;est-en-gas-balances,gas figures rounded",
        "en-nowhere,gas figures rounded",
    )
    problems = _problems(data_copy)
    assert any(
        p.startswith("buses.csv:30") and "3 fields where the header has 7" in p for p in problems
    ), problems
    assert any("countries.csv:2" in p and "unknown source 'en-nowhere'" in p for p in problems)


def test_an_electricity_bus_cannot_end_a_pipeline(data_copy):
    _edit(data_copy / "pipelines.csv", "AZ-gas,GE-gas,23.4", "AZ-el,GE-gas,23.4")
    problems = _problems(data_copy)
    assert any("bus 'AZ-el' is not a gas bus" in p for p in problems), problems
