import json

from typer.testing import CliRunner

from corridor import __version__
from corridor.cli import app

runner = CliRunner()


def test_version():
    result = runner.invoke(app, ["--version"])
    assert result.exit_code == 0
    assert result.output.strip() == f"corridor {__version__}"


def test_help_everywhere():
    for args in (
        [],
        ["network"],
        ["network", "validate"],
        ["network", "show"],
        ["network", "export"],
    ):
        result = runner.invoke(app, [*args, "--help"])
        assert result.exit_code == 0, args
        assert "Usage" in result.output


def test_validate_shipped_data():
    result = runner.invoke(app, ["network", "validate"])
    assert result.exit_code == 0, result.output
    assert result.output.startswith("OK")


def test_validate_reports_problems_and_exits_1(dataset_dir):
    nodes = dataset_dir / "nodes.csv"
    nodes.write_text(nodes.read_text().replace("kars,Kars,TR,", "kars,Kars,TQ,"))
    result = runner.invoke(app, ["network", "validate", str(dataset_dir)])
    assert result.exit_code == 1
    assert "nodes.csv:" in result.output
    assert "record 'kars'" in result.output
    assert "unknown ISO 3166 alpha-2 country code 'TQ'" in result.output
    assert "Traceback" not in result.output


def test_validate_missing_directory(tmp_path):
    result = runner.invoke(app, ["network", "validate", str(tmp_path / "nope")])
    assert result.exit_code == 2
    assert "not a directory" in result.output


def test_show_prints_tables_by_country_mode_and_corridor():
    result = runner.invoke(app, ["network", "show"])
    assert result.exit_code == 0, result.output
    for title in ("By country", "By mode", "Corridors", "middle-aktau-btk", "ferry"):
        assert title in result.output


def test_show_refuses_a_broken_dataset_without_traceback(dataset_dir):
    (dataset_dir / "links.csv").write_text("id,from\n")
    result = runner.invoke(app, ["network", "show", "--dir", str(dataset_dir)])
    assert result.exit_code == 1
    assert "problem" in result.output
    assert "Traceback" not in result.output


def test_export_geojson_to_file(tmp_path):
    target = tmp_path / "corridor.geojson"
    result = runner.invoke(app, ["network", "export", "--format", "geojson", "-o", str(target)])
    assert result.exit_code == 0, result.output
    assert json.loads(target.read_text())["type"] == "FeatureCollection"


def test_export_csv_to_stdout_and_bad_format():
    result = runner.invoke(app, ["network", "export", "--format", "csv"])
    assert result.exit_code == 0
    assert result.output.splitlines()[0].startswith("feature_type,")
    bad = runner.invoke(app, ["network", "export", "--format", "kml"])
    assert bad.exit_code == 2
    assert "kml" in bad.output
