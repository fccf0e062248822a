"""CLI and API of the energy corridor: fast start without PyPSA, clear errors, jobs to results."""

from __future__ import annotations

import subprocess
import sys
import time

from typer.testing import CliRunner

from corridor.cli import app
from tests.api.conftest import FORWARDER, api  # noqa: F401  (the api fixture)

runner = CliRunner()


def test_cli_and_server_start_without_importing_pypsa():
    code = (
        "import sys, corridor.cli, corridor.api.app, corridor.api.energy, corridor.energy.run;"
        "assert 'pypsa' not in sys.modules and 'linopy' not in sys.modules, 'pypsa imported'"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert done.returncode == 0, done.stderr


def test_validate_reports_ok_for_the_shipped_data():
    result = runner.invoke(app, ["energy", "validate"])
    assert result.exit_code == 0, result.output
    assert "OK" in result.output
    assert "2025, 2030" in result.output


def test_validate_names_the_place_of_a_problem(data_copy):
    path = data_copy / "interconnectors.csv"
    path.write_text(path.read_text().replace(",1000,600,", ",lots,600,", 1))
    result = runner.invoke(app, ["energy", "validate", "--data", str(data_copy)])
    assert result.exit_code == 2
    assert (
        "interconnectors.csv:2, record 'kz-uz', field 'capacity_mw': not a number" in result.output
    )
    assert "Traceback" not in result.output


def test_bad_run_arguments_are_clear_errors_without_a_traceback(tmp_path):
    cases = [
        (
            ["energy", "run", "2025", "--outage", "nord-stream"],
            "asset: unknown asset 'nord-stream'",
        ),
        (["energy", "run", "2099"], "scenario: unknown scenario '2099'"),
        (["energy", "run", "2025", "--from", "2025-01-01"], "outage: --from/--to need an asset"),
        (["energy", "run", "2025", "--outage", "tap", "--from", "10 Jan"], "from: not an ISO date"),
        (["energy", "n1", "2025", "--from", "2025-03-01", "--to", "2025-02-01"], "to: the window"),
    ]
    for args, message in cases:
        result = runner.invoke(app, [*args, "--out", str(tmp_path)])
        assert result.exit_code == 2, (args, result.output)
        assert message in " ".join(result.output.split()), (args, result.output)
        assert "Traceback" not in result.output
    assert not any(tmp_path.iterdir())  # nothing stored


def test_a_bad_user_scenario_lists_its_problems(tmp_path):
    path = tmp_path / "bad.toml"
    path.write_text("year = 2030\n[pipeline_capacity_mw]\nscp-az-ge = 31\n")
    result = runner.invoke(app, ["energy", "run", str(path)])
    assert result.exit_code == 2
    assert "bad.toml" in result.output
    assert "wrong unit" in result.output


def test_api_lists_scenarios_and_assets_and_refuses_bad_runs(api):  # noqa: F811
    headers = api.headers(FORWARDER)
    c = api.client
    names = [s["name"] for s in c.get("/api/v1/energy/scenarios", headers=headers).json()]
    assert {"2025", "2030"} <= set(names)
    assets = c.get("/api/v1/energy/scenarios/2030/assets", headers=headers).json()
    assert {"asset": "black-sea-cable", "n1": True}.items() <= next(
        a for a in assets if a["asset"] == "black-sea-cable"
    ).items()
    bad = [
        ({"scenario": "2025", "outage": "nord-stream"}, 404, "asset"),
        ({"scenario": "2099"}, 404, "scenario"),
        ({"scenario": "2025", "outage": "tap", "from": "soon"}, 422, "from"),
        ({"scenario": "2025", "first_hour": 30, "last_hour": 5}, 422, "last_hour"),
        ({"scenario": "../../etc/x.toml"}, 422, "scenario"),
    ]
    for body, status, field in bad:
        answer = c.post("/api/v1/energy/runs", json=body, headers=headers)
        assert answer.status_code == status, (body, answer.text)
        assert answer.json()["error"]["field"] == field
    missing = c.get("/api/v1/energy/runs/2025/flows", headers=headers)
    assert missing.status_code == 404
    assert missing.json()["error"]["field"] == "run"
    assert c.get("/api/v1/energy/scenarios").status_code == 401


def test_api_runs_a_window_as_a_job_and_serves_its_flows(api):  # noqa: F811
    headers = api.headers(FORWARDER)
    c = api.client
    started = c.post(
        "/api/v1/energy/runs",
        headers=headers,
        json={"scenario": "2025", "first_hour": 0, "last_hour": 23},
    )
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    deadline = time.monotonic() + 240
    while True:
        job = c.get(location, headers=headers).json()
        if job["state"] in ("done", "failed") or time.monotonic() > deadline:
            break
        time.sleep(0.2)
    assert job["state"] == "done", job
    assert job["result"]["run"] == "2025--h0-23"
    assert job["result"]["hours"] == 24
    geo = c.get("/api/v1/energy/runs/2025--h0-23/flows", headers=headers)
    assert geo.status_code == 200, geo.text
    features = {f["properties"]["id"]: f for f in geo.json()["features"]}
    assert features["tap-gr"]["properties"]["flow"] > 0
    assert features["black-sea-cable" if "black-sea-cable" in features else "ge-tr"]
    summary = c.get("/api/v1/energy/runs/2025--h0-23", headers=headers).json()
    assert summary["hours"] == 24
