"""Asynchronous capture on the shared job queue (kind ``epcis.capture``), on SQLite and PostgreSQL:
202 and Location, then the job's result; refusals recorded on the job and nothing stored; the
same document sent 50 times at once stored once; and a consumer of another queue instance (as a
``corridor worker`` process would be) running the capture that an API worker accepted."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.jobs import JobQueue
from corridor.settings import Settings
from corridor.tracking.generator import container_numbers, document, events_for
from tests.api.conftest import ADMIN, FORWARDER, Api
from tests.tracking.test_binding import CAPTURE, EVENTS, LD, book, eventlist

ASYNC = {**LD, "Prefer": "respond-async"}


@pytest.fixture
def api(seeded, tmp_path):
    settings = Settings(var_dir=tmp_path, alert_debounce_s=3600)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        yield Api(client, seeded.passwords, seeded.db)


def follow(client: TestClient, location: str, headers: dict[str, str]) -> dict:
    """Poll the capture job until it is no longer running (the binding's way to learn the end)."""
    for _ in range(600):
        job = client.get(location, headers=headers)
        assert job.status_code == 200, job.text
        if not job.json()["running"]:
            return dict(job.json())
        time.sleep(0.05)
    raise AssertionError(f"{location} still running after 30 s")


def job_row(client: TestClient, job_id: str, headers: dict[str, str]) -> dict:
    """The platform's job row, once finished (it is closed just after the capture's own record)."""
    for _ in range(600):
        job = client.get(f"/api/v1/jobs/{job_id}", headers=headers).json()
        if job["state"] in ("done", "failed"):
            return dict(job)
        time.sleep(0.05)
    raise AssertionError(f"job {job_id} still {job['state']} after 30 s")


def test_accepted_then_result_at_the_location(api):
    fwd = api.headers(FORWARDER)
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(7, 1), noise_h=0)[:5]
    answer = api.client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **ASYNC})
    assert answer.status_code == 202, answer.text
    location = answer.headers["Location"]
    assert location == f"/api/v1/epcis/capture/{answer.json()['captureID']}"
    job = follow(api.client, location, fwd)
    assert (job["success"], job["captureErrorBehaviour"], job["errors"]) == (True, "rollback", [])
    assert job["result"]["captured"] == 5
    assert job["finishedAt"] >= job["createdAt"]
    # The same job as the platform's job queue shows it: one id, kind epcis.capture, done.
    queued = job_row(api.client, job["captureID"], fwd)
    assert (queued["kind"], queued["state"], queued["result"]["captured"]) == (
        "epcis.capture",
        "done",
        5,
    )
    stored = eventlist(api.client.get(EVENTS, headers=fwd))
    assert sorted(e["eventID"] for e in stored) == sorted(e["eventID"] for e in events)
    # Without Prefer the answer waits for the job (no thread held) and shows it finished.
    again = api.client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **LD})
    assert again.status_code == 202
    assert again.json()["running"] is False
    assert again.json()["result"]["duplicates"] == 5


def test_a_refused_document_is_a_failed_job_and_stores_nothing(api):
    fwd = api.headers(FORWARDER)
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(8, 1), noise_h=0)[:3]
    events[1] = {**events[1], "action": "WATCH"}
    answer = api.client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **ASYNC})
    assert answer.status_code == 202, answer.text  # the body was received; capture runs later
    job = follow(api.client, answer.headers["Location"], fwd)
    assert job["success"] is False
    assert job["errors"][0]["index"] == 1
    assert "eventList[1].action" in job["errors"][0]["field"]
    queued = job_row(api.client, job["captureID"], fwd)
    assert (queued["state"], queued["error"]["code"]) == ("failed", "invalid")
    assert eventlist(api.client.get(EVENTS, headers=fwd)) == []
    # Waiting for it instead gives the same refusal as the answer, naming the job.
    waited = api.client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **LD})
    assert waited.status_code == 400
    assert waited.json()["errors"][0]["index"] == 1
    assert follow(api.client, waited.headers["Location"], fwd)["success"] is False
    # Not JSON at all: the job says so, and nothing is stored.
    broken = api.client.post(CAPTURE, content=b"{not json", headers={**fwd, **ASYNC})
    assert broken.status_code == 202
    assert follow(api.client, broken.headers["Location"], fwd)["success"] is False
    assert eventlist(api.client.get(EVENTS, headers=fwd)) == []


def test_the_same_capture_fifty_times_at_once_stores_each_event_once(api):
    fwd = api.headers(FORWARDER)
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(9, 1), noise_h=0)[:6]
    body = json.dumps(document(events, plan.ready))
    with ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(
                lambda _: api.client.post(CAPTURE, content=body, headers={**fwd, **LD}), range(50)
            )
        )
    assert [a.status_code for a in answers] == [202] * 50, {a.text for a in answers}
    jobs = [
        a.json() if not a.json()["running"] else follow(api.client, a.headers["Location"], fwd)
        for a in answers
    ]
    assert all(j["success"] for j in jobs)
    assert sum(j["result"]["captured"] for j in jobs) == len(events)
    assert sum(j["result"]["duplicates"] for j in jobs) == 49 * len(events)
    assert len(eventlist(api.client.get(EVENTS, headers=fwd))) == len(events)
    assert api.client.get("/api/v1/health").status_code == 200


def test_a_separate_worker_runs_what_the_api_accepted(seeded, tmp_path):
    """The API process consumes nothing (``jobs_*threads=0``); another queue instance over the
    same storage, as ``corridor worker`` is, runs the capture."""
    settings = Settings(
        var_dir=tmp_path, jobs_threads=0, jobs_interactive_threads=0, epcis_capture_wait_s=0.2
    )
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        api = Api(client, seeded.passwords, seeded.db)
        admin = api.headers(ADMIN)
        fwd = api.headers(FORWARDER)
        shipment, plan = book(api, fwd)
        events = events_for(plan, shipment["id"], container_numbers(10, 1), noise_h=0)[:2]
        answer = client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **LD})
        assert answer.status_code == 202
        assert answer.json()["running"] is True  # nobody has run it yet
        worker = JobQueue(settings, seeded.db)
        worker.start_consumer(0, 1)
        try:
            job = follow(client, answer.headers["Location"], fwd)
        finally:
            worker.close()
        assert job["result"]["captured"] == 2
        assert len(eventlist(client.get(EVENTS, headers=admin))) == 2
