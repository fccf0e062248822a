import json

from typer.testing import CliRunner

from corridor.cli import app

runner = CliRunner()
BASE = ["--from", "Xi'an", "--to", "Duisburg", "--ready", "2026-03-03"]


def test_route_json_is_machine_readable():
    result = runner.invoke(app, ["route", *BASE, "--containers", "40", "--json"])
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert data["query"]["origin"] == "xian"
    options = data["itineraries"]
    assert options
    arrivals = [o["arrival"] for o in options]
    assert arrivals == sorted(arrivals)
    for option in options:
        legs = option["legs"]
        assert legs[0]["from_node"] == "xian"
        assert legs[-1]["to_node"] == "duisburg"
        assert abs(sum(leg["cost_usd"] for leg in legs) - option["cost_usd"]) < 1


def test_route_human_output_and_avoid():
    result = runner.invoke(app, ["route", *BASE, "--avoid", "RU,BY", "--best", "time"])
    assert result.exit_code == 0, result.output
    assert "Option 1" in result.output
    assert "Moscow" not in result.output
    assert "border" in result.output


def test_compare_lists_every_corridor():
    result = runner.invoke(
        app, ["compare", "--from", "Xian", "--to", "Duisburg", "--ready", "2026-03-03"]
    )
    assert result.exit_code == 0, result.output
    for corridor in (
        "middle-aktau-btk",
        "middle-kuryk-blacksea",
        "northern",
        "sea-suez",
        "southern-iran",
    ):
        assert corridor in result.output


def test_compare_json():
    result = runner.invoke(app, ["compare", *BASE, "--json"])
    rows = json.loads(result.output)
    assert {r["family"] for r in rows} == {"middle", "northern", "sea", "southern"}


def test_bad_input_gets_a_clear_message_and_non_zero_exit():
    cases = [
        (["--from", "Xyan", "--to", "Duisburg"], "unknown place 'Xyan'", 2),
        (["--from", "Duisburg", "--to", "duisburg"], "same place", 2),
        ([*BASE[:4], "--ready", "03/03/2026"], "is not a date", 2),
        ([*BASE, "--teu", "-4"], "--teu/--containers", 2),
        ([*BASE, "--teu", "4", "--containers", "2"], "either --teu or --containers", 2),
        ([*BASE, "--modes", "rail,air"], "unknown mode(s) air", 2),
        ([*BASE, "--avoid", "RU,KZ,IR,CN"], "origin", 2),
        ([*BASE, "--modes", "rail", "--avoid", "RU,KZ"], "no feasible route", 1),
    ]
    for args, message, code in cases:
        result = runner.invoke(app, ["route", *args])
        assert result.exit_code == code, (args, result.output)
        assert message in result.output, (args, result.output)
        assert "Traceback" not in result.output
