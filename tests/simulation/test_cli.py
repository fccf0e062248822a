import json

from typer.testing import CliRunner

from corridor.cli import app

runner = CliRunner()


def test_simulate_prints_bottlenecks_and_writes_outputs(tmp_path):
    report = tmp_path / "r.html"
    data = tmp_path / "r.json"
    result = runner.invoke(
        app, ["simulate", "wb-2030", "--days", "15", "--report", str(report), "--json", str(data)]
    )
    assert result.exit_code == 0, result.output
    assert "Where the corridor jams" in result.output
    assert "demand x2.444" in result.output
    page = report.read_text()
    assert page.count("data:image/png;base64,") >= 4
    summary = json.loads(data.read_text())
    assert summary["scenario"] == "wb-2030"
    assert (tmp_path / "r.od.parquet").is_file()


def test_diff(tmp_path):
    result = runner.invoke(app, ["simulate", "diff", "base-2024", "aktau-storm", "--days", "10"])
    assert result.exit_code == 0, result.output
    assert "aktau-storm against base-2024" in result.output


def test_list():
    result = runner.invoke(app, ["simulate", "list"])
    assert result.output.split() == [
        "aktau-storm",
        "base-2024",
        "digital-borders",
        "more-ferries",
        "wb-2030",
    ]


def test_bad_scenario_file_exit_1_with_location(tmp_path):
    bad = tmp_path / "bad.toml"
    bad.write_text(
        '[scenario]\nname = "b"\nbase = "base-2024"\nyear = 2024\n\n[[fleet]]\nservice = "ark"\nvessels = 1\n'
    )
    result = runner.invoke(app, ["simulate", str(bad)])
    assert result.exit_code == 1
    assert "bad.toml:7: field 'fleet.0.service': unknown service 'ark'" in result.output
    assert "Traceback" not in result.output


def test_unknown_scenario_and_bad_arguments():
    assert runner.invoke(app, ["simulate", "nope"]).exit_code == 2
    assert runner.invoke(app, ["simulate", "diff", "base-2024"]).exit_code == 2
    result = runner.invoke(app, ["simulate", "base-2024", "--scheduler", "localhost"])
    assert result.exit_code == 2
    assert "--scheduler" in result.output
