"""Each kind of bad record is fed to the validator, which must name the file, record, field and reason."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from corridor.network import DatasetError, Problem, check_dataset, load_network


def edit_csv(path: Path, record: str, **changes: str) -> None:
    """Change the row whose first column is ``record`` (or append it when missing)."""
    with path.open(newline="") as handle:
        reader = csv.DictReader(handle)
        columns = list(reader.fieldnames or [])
        rows = list(reader)
    key = columns[0]
    matches = [row for row in rows if row[key] == record]
    if matches:
        matches[0].update(changes)
    else:
        rows.append({c: changes.get(c, "") for c in columns} | {key: record})
    with path.open("w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=columns)
        writer.writeheader()
        writer.writerows(rows)


def line_of(path: Path, record: str) -> int:
    for number, text in enumerate(path.read_text().splitlines(), start=1):
        if text.split(",", 1)[0] == record:
            return number
    raise AssertionError(f"{record} not in {path}")


def only(problems: list[Problem]) -> Problem:
    assert len(problems) == 1, "\n".join(map(str, problems))
    return problems[0]


def test_shipped_dataset_is_clean(dataset_dir):
    assert check_dataset(dataset_dir) == []


def test_unknown_node_in_a_link(dataset_dir):
    edit_csv(dataset_dir / "links.csv", "kars-erzurum", to="erzurumm")
    problems = check_dataset(dataset_dir)
    assert any(
        p.file == "links.csv"
        and p.record == "kars-erzurum"
        and p.field == "to"
        and p.line == line_of(dataset_dir / "links.csv", "kars-erzurum")
        and "unknown node 'erzurumm'" in p.message
        for p in problems
    ), problems


def test_negative_distance(dataset_dir):
    path = dataset_dir / "link_geometry.geojson"
    collection = json.loads(path.read_text())
    for feature in collection["features"]:
        if feature["properties"]["link"] == "tbilisi-marabda":
            feature["properties"]["distance_km"] = -40
    path.write_text(json.dumps(collection))
    problem = only(check_dataset(dataset_dir))
    assert (problem.record, problem.field) == ("tbilisi-marabda", "distance_km")
    assert "not positive" in problem.message


def test_implausible_distance_against_the_great_circle(dataset_dir):
    path = dataset_dir / "link_geometry.geojson"
    collection = json.loads(path.read_text())
    for feature in collection["features"]:
        if feature["properties"]["link"] == "kars-erzurum":
            feature["properties"]["distance_km"] = 1900  # typo: an extra zero
    path.write_text(json.dumps(collection))
    problem = only(check_dataset(dataset_dir))
    assert problem.record == "kars-erzurum"
    assert "implausible distance 1900 km for a great-circle distance of" in problem.message


def test_missing_and_unknown_source(dataset_dir):
    nodes = dataset_dir / "nodes.csv"
    edit_csv(nodes, "kars", source="")
    edit_csv(nodes, "tbilisi", source="osm-odbl;nowhere-2024")
    problems = check_dataset(dataset_dir)
    assert {(p.record, p.field) for p in problems} == {("kars", "source"), ("tbilisi", "source")}
    assert any("unknown source 'nowhere-2024'" in p.message for p in problems)


def test_unknown_country_code(dataset_dir):
    edit_csv(dataset_dir / "nodes.csv", "baku", country="AJ")
    problem = only(check_dataset(dataset_dir))
    assert (problem.file, problem.record, problem.field) == ("nodes.csv", "baku", "country")
    assert "unknown ISO 3166 alpha-2 country code 'AJ'" in problem.message


def test_node_that_no_link_reaches(dataset_dir):
    edit_csv(
        dataset_dir / "nodes.csv",
        "samsun_port",
        name="Port of Samsun",
        country="TR",
        lat="41.29",
        lon="36.34",
        kind="sea_port",
        gauge_mm="1435",
        source="est-coord",
    )
    problem = only(check_dataset(dataset_dir))
    assert problem.record == "samsun_port"
    assert problem.message == "no link reaches this node"


def test_schedule_without_capacity(dataset_dir):
    edit_csv(dataset_dir / "services.csv", "pbm-batumi-burgas", capacity_teu="", capacity_wagons="")
    problem = only(check_dataset(dataset_dir))
    assert (problem.file, problem.record) == ("services.csv", "pbm-batumi-burgas")
    assert "a schedule without capacity" in problem.message


def test_schedule_along_stops_that_no_link_joins(dataset_dir):
    edit_csv(dataset_dir / "services.csv", "tcdd-kars-halkali", stops="kars;sivas;ankara")
    problem = only(check_dataset(dataset_dir))
    assert "no rail link between consecutive stops 'kars' and 'sivas'" in problem.message


def test_ferry_link_without_a_service(dataset_dir):
    services = dataset_dir / "services.csv"
    rows = services.read_text().splitlines()
    services.write_text(
        "\n".join(r for r in rows if not r.startswith("navibulgar-poti-varna")) + "\n"
    )
    problem = only(check_dataset(dataset_dir))
    assert problem.record == "poti_port-varna_port"
    assert "ferry link without any scheduled service" in problem.message


def test_border_link_without_a_crossing_record(dataset_dir):
    crossings = dataset_dir / "crossings.csv"
    rows = crossings.read_text().splitlines()
    crossings.write_text("\n".join(r for r in rows if not r.startswith("x-kartsakhi,")) + "\n")
    problem = only(check_dataset(dataset_dir))
    assert problem.record == "kartsakhi-kars"
    assert "crosses the GE-TR border" in problem.message


def test_gauges_meeting_without_a_gauge_change(dataset_dir):
    edit_csv(dataset_dir / "crossings.csv", "t-akhalkalaki", gauge_change="")
    problem = only(check_dataset(dataset_dir))
    assert problem.record == "akhalkalaki"
    assert "rail gauges 1435/1520 meet here" in problem.message


def test_wrong_types_and_formats_name_the_field(dataset_dir):
    edit_csv(dataset_dir / "nodes.csv", "kars", lat="forty")
    edit_csv(dataset_dir / "services.csv", "tcdd-van-ferry", weekdays="Mon Funday")
    edit_csv(dataset_dir / "crossings.csv", "x-brest", gauge_change="wide")
    problems = check_dataset(dataset_dir)
    found = {(p.record, p.field) for p in problems}
    assert {("kars", "lat"), ("tcdd-van-ferry", "weekdays"), ("x-brest", "gauge_change")} <= found
    assert any("'Funday' is not a weekday" in p.message for p in problems)


def test_duplicate_id_and_missing_column(dataset_dir):
    nodes = dataset_dir / "nodes.csv"
    lines = nodes.read_text().splitlines()
    nodes.write_text("\n".join([*lines, lines[1]]) + "\n")
    problems = check_dataset(dataset_dir)
    assert any(p.field == "id" and "duplicate id (first on line 2)" in p.message for p in problems)
    sources = dataset_dir / "sources.csv"
    text = sources.read_text().splitlines()
    sources.write_text("\n".join([text[0].replace(",kind,", ",sort,"), *text[1:]]) + "\n")
    assert any(
        p.file == "sources.csv" and "missing column(s): kind" in p.message
        for p in check_dataset(dataset_dir)
    )


def test_load_network_refuses_a_broken_dataset_with_every_problem(dataset_dir):
    edit_csv(dataset_dir / "nodes.csv", "baku", country="AJ")
    edit_csv(dataset_dir / "links.csv", "kars-erzurum", to="erzurumm")
    with pytest.raises(DatasetError) as caught:
        load_network(dataset_dir)
    assert len(caught.value.problems) >= 2
    assert "nodes.csv" in str(caught.value)
    assert "links.csv" in str(caught.value)


def test_unknown_vehicle_and_wrong_mode(dataset_dir):
    edit_csv(dataset_dir / "links.csv", "kars-erzurum", vehicle="rail_steam")
    edit_csv(dataset_dir / "services.csv", "tcdd-van-ferry", vehicle="rail_diesel")
    problems = check_dataset(dataset_dir)
    assert any(
        p.record == "kars-erzurum" and "unknown vehicle 'rail_steam'" in p.message for p in problems
    )
    assert any(
        p.record == "tcdd-van-ferry" and "is for rail, not ferry" in p.message for p in problems
    )
