"""Capture jobs (kind ``epcis.capture``), on SQLite and PostgreSQL: asynchronous on the shared
job queue (202 and Location, then the job's result), and small documents captured in the request
(the finished job at once); refusals recorded on the job and nothing stored; the same document
sent 50 times at once stored once; a consumer of another queue instance (as a ``corridor worker``
process would be) running the capture that an API worker accepted; stored rows reading back."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import pytest
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.jobs import JobQueue
from corridor.settings import Settings
from corridor.store.tracking_tables import EpcisCapture
from corridor.tracking.errors import TrackingError
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


def test_a_small_document_is_captured_in_the_request(api, seeded):
    """Up to ``epcis_inline_mb`` the answer is the finished capture, with no payload kept and
    the platform's job row written in the same transaction (no queue, no polling)."""
    fwd = api.headers(FORWARDER)
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(11, 1), noise_h=0)[:4]
    answer = api.client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **LD})
    assert answer.status_code == 202, answer.text
    body = answer.json()
    assert (body["running"], body["success"], body["result"]["captured"]) == (False, True, 4)
    assert answer.headers["Location"] == f"/api/v1/epcis/capture/{body['captureID']}"
    assert follow(api.client, answer.headers["Location"], fwd) == body
    # The job row exists already (it was written with the events), done, with the same result.
    queued = api.client.get(f"/api/v1/jobs/{body['captureID']}", headers=fwd).json()
    assert (queued["kind"], queued["state"], queued["result"]["captured"]) == (
        "epcis.capture",
        "done",
        4,
    )
    with seeded.db.session() as s:
        row = s.get(EpcisCapture, body["captureID"])
        assert row is not None
        assert row.payload is None  # the document was never stored beside its events
    stored = eventlist(api.client.get(EVENTS, headers=fwd))
    assert sorted(e["eventID"] for e in stored) == sorted(e["eventID"] for e in events)


def test_a_small_refused_document_is_recorded_and_stores_nothing(api):
    fwd = api.headers(FORWARDER)
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(12, 1), noise_h=0)[:3]
    events[2] = {**events[2], "eventTime": "yesterday"}
    answer = api.client.post(CAPTURE, json=document(events, plan.ready), headers={**fwd, **LD})
    assert answer.status_code == 400, answer.text
    assert answer.json()["errors"][0]["index"] == 2
    job = api.client.get(answer.headers["Location"], headers=fwd).json()
    assert (job["running"], job["success"], job["errors"][0]["index"]) == (False, False, 2)
    queued = job_row(api.client, job["captureID"], fwd)
    assert (queued["state"], queued["error"]["code"]) == ("failed", "invalid")
    assert eventlist(api.client.get(EVENTS, headers=fwd)) == []


def test_larger_documents_go_through_the_queue(seeded, tmp_path):
    """Above ``epcis_inline_mb`` a capture is a queued job: with no wait the answer is
    ``running: true`` and the job's consumer finishes it."""
    settings = Settings(
        var_dir=tmp_path, epcis_inline_mb=0.0005, epcis_capture_wait_s=0, alert_debounce_s=3600
    )
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        api = Api(client, seeded.passwords, seeded.db)
        fwd = api.headers(FORWARDER)
        shipment, plan = book(api, fwd)
        events = events_for(plan, shipment["id"], container_numbers(13, 1), noise_h=0)[:4]
        raw = json.dumps(document(events, plan.ready))
        assert len(raw) > 0.0005 * 2**20
        answer = client.post(CAPTURE, content=raw, headers={**fwd, **LD})
        assert answer.status_code == 202
        assert answer.json()["running"] is True
        assert follow(client, answer.headers["Location"], fwd)["result"]["captured"] == 4


def test_stored_rows_read_back_as_captured(seeded):
    """The rows written on the driver (no SQLAlchemy value processing) read back through the ORM
    as the types say: aware UTC times, the JSON body unchanged (non-ASCII text, an integer
    beyond 64 bits that orjson cannot encode), and the query columns."""
    from sqlalchemy import select

    from corridor.store.models import EpcisEpc, EpcisEvent
    from corridor.store.tracking_capture import capture
    from tests.tracking.test_conformance import _admin

    who = _admin(seeded.db)
    event = {
        "type": "ObjectEvent",
        "eventID": "urn:uuid:6d1f3c2e-0000-4000-8000-000000000001",
        "eventTime": "2026-03-01T10:00:00.123+04:00",
        "eventTimeZoneOffset": "+04:00",
        "epcList": ["urn:epc:id:bic:CSQU3054383"],
        "action": "OBSERVE",
        "bizStep": "departing",
        "readPoint": {"id": "urn:corridor:node:aktau_port"},
        "example:note": "Ақтау — Баку",
        "example:big": 2**70,
    }
    doc = {
        "@context": [
            "https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld",
            {"example": "http://ns.example.com/epcis/"},
        ],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": "2026-03-01T00:00:00Z",
        "epcisBody": {"eventList": [event]},
    }
    with seeded.db.write_session() as s:
        result = capture(s, who, {"aktau_port"}, doc)
    assert result.captured == 1
    with seeded.db.session() as s:
        row = s.scalar(select(EpcisEvent).where(EpcisEvent.event_id == event["eventID"]))
        assert row is not None
        assert row.event_time == datetime(2026, 3, 1, 6, 0, 0, 123000, tzinfo=UTC)
        assert row.record_time is not None
        assert row.record_time.tzinfo is not None
        assert (row.biz_step, row.node_id, row.action, row.error_declared) == (
            "departing",
            "aktau_port",
            "OBSERVE",
            False,
        )
        assert row.body["example:note"] == "Ақтау — Баку"
        assert row.body["example:big"] == 2**70
        assert row.body["eventTime"] == event["eventTime"]
        epcs = s.scalars(select(EpcisEpc.epc).where(EpcisEpc.event_id == event["eventID"]))
        assert list(epcs) == ["urn:epc:id:bic:CSQU3054383"]


def test_an_event_stored_behind_the_lock_is_found_not_lost(seeded, monkeypatch):
    """Every insert into ``epcis_events`` goes through the capture lock, so PostgreSQL COPies new
    rows straight into the table. Should a row exist all the same (forced here: the look for
    stored ids misses it once), the COPY is undone to its savepoint and the conflict-skipping
    path stores the rest: the stored event counts as a duplicate, the new one once, no error.
    On SQLite the document is refused whole (retryable) and, sent again, captured the same way."""
    from sqlalchemy import func, select

    from corridor.store import tracking_capture
    from corridor.store.models import EpcisEvent
    from tests.tracking.test_conformance import _admin

    who = _admin(seeded.db)

    def doc(*ids: str) -> dict:
        return {
            "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
            "type": "EPCISDocument",
            "schemaVersion": "2.0",
            "creationDate": "2026-03-01T00:00:00Z",
            "epcisBody": {
                "eventList": [
                    {
                        "type": "ObjectEvent",
                        "eventID": ident,
                        "eventTime": "2026-03-01T10:00:00Z",
                        "eventTimeZoneOffset": "+00:00",
                        "epcList": ["urn:epc:id:bic:CSQU3054383"],
                        "action": "OBSERVE",
                        "readPoint": {"id": "urn:corridor:node:aktau_port"},
                    }
                    for ident in ids
                ]
            },
        }

    first, second = (
        "urn:uuid:00000000-0000-4000-8000-00000000000a",
        "urn:uuid:00000000-0000-4000-8000-00000000000b",
    )
    with seeded.db.write_session() as s:
        assert tracking_capture.capture(s, who, {"aktau_port"}, doc(first)).captured == 1
    real = tracking_capture._existing
    calls = []

    def blind_once(session, ids):
        calls.append(ids)
        return [] if len(calls) == 1 else real(session, ids)

    monkeypatch.setattr(tracking_capture, "_existing", blind_once)
    if seeded.db.dialect == "sqlite":
        # SQLite inserts without RETURNING (one writer: this cannot happen); a count that does
        # not add up stores nothing and asks for the document again.
        with pytest.raises(TrackingError) as refused, seeded.db.write_session() as s:
            tracking_capture.capture(s, who, {"aktau_port"}, doc(first, second))
        assert refused.value.code == "unavailable"
    with seeded.db.write_session() as s:
        result = tracking_capture.capture(s, who, {"aktau_port"}, doc(first, second))
    assert (result.captured, result.summary()["duplicates"]) == (1, 1)
    if seeded.db.dialect == "postgresql":
        assert len(calls) == 2  # the miss, then the look at what the COPY found stored
    with seeded.db.session() as s:
        counts = dict(
            s.execute(
                select(EpcisEvent.event_id, func.count())
                .where(EpcisEvent.event_id.in_([first, second]))
                .group_by(EpcisEvent.event_id)
            ).all()
        )
    assert counts == {first: 1, second: 1}
