"""The shipped capacity data is clean and sourced; broken rows come back as located problems."""

from __future__ import annotations

from pathlib import Path

import pytest
from typer.testing import CliRunner

from corridor.capacity import CapacityError, CargoKind, check_capacity, read_capacity
from corridor.cli import app
from corridor.settings import PACKAGE_DATA_DIR


def test_shipped_capacity_data_is_clean_and_complete(network):
    data, problems = read_capacity(PACKAGE_DATA_DIR)
    assert problems == []
    # Every ferry and train service of the network has a capacity in its operator's unit.
    assert set(data.services) == set(network.services)
    # Published figures (Trend 2023: ASCO Ro-Pax 56 tank cars; eurasia.travel: 27 rail cars).
    assert data.services["asco-kuryk-alat-ferry"].capacity == 56
    assert data.services["caspian-turkmenbashi-alat"].capacity == 27
    # Aktau container hub 140,000 TEU a year (report.az 2025) = 384 TEU a day.
    assert data.ports["aktau_port"].handling_teu_day == round(140_000 / 365)
    for port in data.ports:
        assert network.nodes[port].kind.value == "sea_port"


def test_every_capacity_figure_cites_a_known_source(network):
    data, _ = read_capacity(PACKAGE_DATA_DIR)
    records = [
        *data.services.values(),
        *data.sailings.values(),
        *data.vessels.values(),
        *data.crossings.values(),
        *data.ports.values(),
    ]
    for record in records:
        for ref in record.source:
            assert ref in network.sources, (record, ref)
    for ref in network.sources:
        if ref.startswith("cap-est"):
            assert network.sources[ref].note, ref


def test_a_truck_on_a_rail_only_ferry_is_refused():
    data, _ = read_capacity(PACKAGE_DATA_DIR)
    with pytest.raises(CapacityError) as exc:
        data.units("caspian-turkmenbashi-alat", CargoKind.TRUCK, 1)
    assert exc.value.field == "cargo"
    assert data.units("asco-aktau-alat-ferry", CargoKind.TRUCK, 2) == 2
    assert data.units("asco-aktau-alat-feeder", CargoKind.C40, 3) == 6


def _edit(directory: Path, name: str, old: str, new: str) -> None:
    path = directory / "capacity" / name
    text = path.read_text()
    assert old in text
    path.write_text(text.replace(old, new, 1))


@pytest.mark.parametrize(
    ("name", "old", "new", "field", "words"),
    [
        (
            "services.csv",
            "tcdd-van-ferry,wagons,50",
            "tcdd-van-ferri,wagons,50",
            "service",
            "unknown",
        ),
        (
            "services.csv",
            "tcdd-van-ferry,wagons,50",
            "tcdd-van-ferry,wagons,-5",
            "capacity",
            "greater",
        ),
        (
            "services.csv",
            "rail_wagon=1;20GP=1;40GP=1;40HC=1;45HC=1,est-service",
            "boat=1,est-service",
            "carries",
            "rail_wagon",
        ),
        (
            "sailings.csv",
            "2026-12-01T22:00,alat_port",
            "2026-12-02T22:00,alat_port",
            "departure",
            "does not depart",
        ),
        ("sailings.csv", "alat_port,40,", "alat_port,400,", "capacity", "exceeds"),
        (
            "vessels.csv",
            "when_loaded,0.85,24,trend",
            "when_loaded,,24,trend",
            "rule",
            "load_factor",
        ),
        ("crossings.csv", "x-bolashak,8,0,0,no", "x-bolashak,8,0,0,yes", "equeue", "road lane"),
        ("ports.csv", "kuryk_port,", "dostyk,", "node", "not a sea_port"),
        ("ports.csv", "cap-reportaz2025;cap-est-port", "cap-nowhere", "source", "unknown source"),
    ],
)
def test_broken_rows_are_located(dataset_dir, name, old, new, field, words):
    _edit(dataset_dir, name, old, new)
    problems = check_capacity(dataset_dir)
    assert problems, "the edit must be reported"
    first = problems[0]
    assert first.file == f"capacity/{name}"
    assert first.line is not None
    assert first.line >= 2
    assert first.field == field
    assert words in first.message


def test_network_validate_reports_capacity_problems(dataset_dir):
    _edit(dataset_dir, "ports.csv", "kuryk_port,", "dostyk,")
    result = CliRunner().invoke(app, ["network", "validate", str(dataset_dir)])
    assert result.exit_code == 1
    assert "capacity/ports.csv" in result.output
    clean = CliRunner().invoke(app, ["network", "validate", str(PACKAGE_DATA_DIR)])
    assert clean.exit_code == 0, clean.output
