"""Simulation over HTTP: validated at once, run as a job, compared; others see nothing."""

from __future__ import annotations

import time

from tests.api.conftest import FORWARDER, OTHER


def _wait(api, location, headers):
    deadline = time.monotonic() + 60
    while True:
        answer = api.client.get(location, headers=headers)
        assert answer.status_code == 200, answer.text
        if answer.json()["state"] in ("done", "failed") or time.monotonic() > deadline:
            return answer.json()
        time.sleep(0.05)


def test_scenarios_are_listed(api):
    answer = api.client.get("/api/v1/simulation/scenarios", headers=api.headers(FORWARDER))
    assert answer.status_code == 200
    by_name = {s["name"]: s for s in answer.json()}
    assert set(by_name) == {
        "aktau-storm",
        "base-2024",
        "digital-borders",
        "more-ferries",
        "wb-2030",
    }
    assert by_name["base-2024"]["demand_t"] == 4.5e6
    assert by_name["wb-2030"]["chain"] == ["base-2024.toml", "wb-2030.toml"]


def test_run_as_job_then_diff(api):
    headers = api.headers(FORWARDER)
    answer = api.client.post(
        "/api/v1/simulation/runs", json={"scenario": "base-2024", "days": 5}, headers=headers
    )
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    job = _wait(api, location, headers)
    assert job["state"] == "done", job
    assert job["progress"] == 1.0
    result = job["result"]
    assert result["scenario"] == "base-2024"
    assert result["volume"]["demand_t"] == 4.5e6
    same = api.client.get(f"/api/v1/simulation/diff?a={job['id']}&b={job['id']}", headers=headers)
    assert same.status_code == 200, same.text
    assert same.json()["volume"]["delivered_t"]["delta"] == 0
    foreign = api.client.get(
        f"/api/v1/simulation/diff?a={job['id']}&b={job['id']}", headers=api.headers(OTHER)
    )
    assert foreign.status_code == 404
    assert foreign.json()["error"]["field"] == "a"


def test_bad_runs_are_refused_and_nothing_is_queued(api):
    headers = api.headers(FORWARDER)
    unknown = api.client.post(
        "/api/v1/simulation/runs", json={"scenario": "atlantis"}, headers=headers
    )
    assert unknown.status_code == 404
    assert unknown.json()["error"]["code"] == "not_found"
    assert unknown.json()["error"]["field"] == "scenario"
    for body in ({"scenario": "base-2024", "replications": 0}, {"scenario": "../etc"}):
        bad = api.client.post("/api/v1/simulation/runs", json=body, headers=headers)
        assert bad.status_code == 422
    assert (
        api.client.post("/api/v1/simulation/runs", json={"scenario": "base-2024"}).status_code
        == 401
    )
    missing = api.client.get("/api/v1/simulation/diff?a=nope&b=nope", headers=headers)
    assert missing.status_code == 404
