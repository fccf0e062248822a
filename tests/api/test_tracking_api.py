"""EPCIS capture and query, shipment status and ETA alerts over the API (SQLite and PostgreSQL)."""

from __future__ import annotations

import copy
import threading
import time
from datetime import timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.routing import Itinerary
from corridor.settings import Settings
from corridor.tracking.generator import container_numbers, document, events_for
from tests.api.conftest import FORWARDER, OTHER

ROUTE = {
    "origin": "dostyk",
    "destination": "tbilisi",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 2,
    "via": ["aktau_port"],
    "best": "time",
}


@pytest.fixture
def booked(api):
    fwd = api.headers(FORWARDER)
    shipment = api.client.post(
        "/api/v1/shipments", json={"reference": "TRK", "route": ROUTE}, headers=fwd
    ).json()
    plan = Itinerary.model_validate(shipment["itinerary"])
    return api, fwd, shipment, plan


def capture(api, headers, doc):
    return api.client.post(
        "/api/v1/epcis/capture",
        json=doc,
        headers={**headers, "Content-Type": "application/ld+json"},
    )


def count(api, headers, **params):
    body = api.client.get(
        "/api/v1/epcis/events", params={"perPage": 1000, **params}, headers=headers
    ).json()
    return len(body["epcisBody"]["queryResults"]["resultsBody"]["eventList"])


def test_capture_is_idempotent_and_queryable(booked):
    api, fwd, shipment, plan = booked
    boxes = container_numbers(7, 2)
    events = events_for(plan, shipment["id"], boxes, noise_h=0)
    doc = document(events, plan.ready)
    first = capture(api, fwd, doc)
    assert first.status_code == 202, first.text
    job = api.client.get(first.headers["Location"], headers=fwd).json()
    assert job["running"] is False
    assert job["success"] is True
    assert job["result"]["captured"] == len(events)
    again = capture(api, fwd, doc).json()["result"]
    assert (again["captured"], again["duplicates"]) == (0, len(events))
    # Each repeat is reported by its index in the document.
    assert [d["index"] for d in again["duplicateEvents"]] == list(range(len(events)))
    assert count(api, fwd) == len(events)
    assert count(api, fwd, EQ_bizStep="urn:epcglobal:cbv:bizstep:departing") == len(plan.legs)
    assert count(api, fwd, EQ_bizStep="departing|arriving") == len(events)
    assert count(api, fwd, EQ_action="OBSERVE") == len(events)
    assert count(api, fwd, EQ_action="ADD") == 0
    assert count(api, fwd, EQ_eventID=events[0]["eventID"]) == 1
    assert count(api, fwd, MATCH_anyEPC=f"urn:epc:id:bic:{boxes[1]}") == len(events)
    assert count(api, fwd, EQ_bizTransaction_bol=f"urn:corridor:shipment:{shipment['id']}") == len(
        events
    )
    assert count(api, fwd, EXISTS_errorDeclaration="") == 0
    assert count(api, fwd, eventCountLimit=3) == 3
    assert count(api, fwd, EQ_bizLocation="urn:corridor:node:aktau_port") == 2
    assert count(api, fwd, MATCH_epc=f"urn:epc:id:bic:{boxes[0]}") == len(events)
    assert count(api, fwd, MATCH_epc="urn:epc:id:bic:CRDU*") == len(events)
    assert count(api, fwd, MATCH_epc="urn:epc:id:bic:MSKU*") == 0
    assert count(api, fwd, eventType="AggregationEvent") == 0
    cut = (plan.legs[1].departure + timedelta(minutes=1)).isoformat()
    assert count(api, fwd, LT_eventTime=cut) == 3
    assert count(api, fwd, GE_eventTime=cut) == len(events) - 3
    # Paging: pages of 3 cover every event once.
    seen, token = [], None
    while True:
        params = {"perPage": 3, **({"nextPageToken": token} if token else {})}
        body = api.client.get("/api/v1/epcis/events", params=params, headers=fwd).json()
        seen += [
            e["eventID"] for e in body["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        ]
        token = body.get("nextPageToken")
        if token is None:
            break
    assert sorted(seen) == sorted(e["eventID"] for e in events)
    # Another forwarder sees nothing of it and cannot write to it.
    other = api.headers(OTHER)
    assert count(api, other) == 0
    refused = capture(
        api, other, document(events_for(plan, shipment["id"], boxes, seed=9), plan.ready)
    )
    assert refused.status_code == 422
    assert refused.json()["errors"][0]["index"] == 0


def test_rejected_documents_store_nothing(booked):
    api, fwd, shipment, plan = booked
    events = events_for(plan, shipment["id"], container_numbers(7, 1), noise_h=0)
    broken = copy.deepcopy(events)
    broken[2]["action"] = "WATCH"
    response = capture(api, fwd, document(broken, plan.ready))
    assert response.status_code == 400
    body = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert any(e["path"] == "$.epcisBody.eventList[2].action" for e in body["errors"])
    unknown = copy.deepcopy(events)
    unknown[1]["bizTransactionList"][0]["bizTransaction"] = "urn:corridor:shipment:nope"
    unknown[3]["bizLocation"]["id"] = "urn:corridor:node:atlantis"
    response = capture(api, fwd, document(unknown, plan.ready))
    assert response.status_code == 422
    messages = " ".join(e["message"] for e in response.json()["errors"])
    assert "unknown shipment 'nope'" in messages
    assert "unknown corridor place 'urn:corridor:node:atlantis'" in messages
    malformed = api.client.post(
        "/api/v1/epcis/capture",
        content=b"{oops",
        headers={**fwd, "Content-Type": "application/json"},
    )
    assert malformed.status_code == 400
    assert count(api, fwd) == 0
    bad_query = api.client.get(
        "/api/v1/epcis/events", params={"GE_eventTime": "yesterday"}, headers=fwd
    )
    assert bad_query.status_code == 400
    assert bad_query.json()["error"]["field"] == "GE_eventTime"


def test_status_position_eta_and_error_declaration(booked):
    api, fwd, shipment, plan = booked
    boxes = container_numbers(7, 1)
    events = events_for(plan, shipment["id"], boxes, until=plan.legs[1].arrival, noise_h=0)
    capture(api, fwd, document(events, plan.ready))
    state = api.client.get(f"/api/v1/shipments/{shipment['id']}/tracking", headers=fwd).json()
    assert state["events"] == len(events)
    assert state["position"]["node"] == plan.legs[1].to_node
    assert state["legs"][0]["actual_arrival"] is not None
    assert state["legs"][-1]["actual_arrival"] is None
    assert abs(state["slip_h"]) < 24  # on time: the ETA stays near the plan
    # The arrival was recorded wrongly: an error declaration retracts it.
    correction = copy.deepcopy(events[-1])
    correction["errorDeclaration"] = {
        "declarationTime": "2026-03-10T00:00:00.000Z",
        "reason": "incorrect_data",
    }
    response = capture(api, fwd, document([correction], plan.ready))
    assert response.json()["result"]["corrected"] == 1
    state = api.client.get(f"/api/v1/shipments/{shipment['id']}/tracking", headers=fwd).json()
    assert state["position"]["node"] == plan.legs[1].from_node


class _Hook(BaseHTTPRequestHandler):
    calls: ClassVar[list[dict]] = []
    fail_first = 1

    def do_POST(self):
        length = int(self.headers["Content-Length"])
        import json

        _Hook.calls.append(json.loads(self.rfile.read(length)))
        status = 500 if len(_Hook.calls) <= _Hook.fail_first else 204
        self.send_response(status)
        self.end_headers()

    def log_message(self, *args):
        pass


def test_delay_raises_an_alert_delivered_to_the_webhook_with_retries(db, tmp_path, monkeypatch):
    from corridor.settings import PACKAGE_DATA_DIR
    from corridor.store.seed import prepare

    logins = {lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)}
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.calls = []
    threading.Thread(target=server.serve_forever, daemon=True).start()
    # Loopback targets are refused unless allowed; the retry thread reads the environment.
    monkeypatch.setenv("CORRIDOR_WEBHOOK_ALLOW_NETS", '["127.0.0.1/32"]')
    from corridor.settings import get_settings

    get_settings.cache_clear()
    settings = Settings(
        var_dir=tmp_path,
        webhook_backoff_s=0.05,
        webhook_poll_s=0.05,
        webhook_allow_nets=["127.0.0.1/32"],
    )
    with TestClient(create_app(settings, db)) as client:
        fwd = {
            "Authorization": "Bearer "
            + client.post(
                "/api/v1/auth/login", json={"email": FORWARDER, "password": logins[FORWARDER]}
            ).json()["token"]
        }
        hook = client.post(
            "/api/v1/webhooks",
            json={"url": f"http://127.0.0.1:{server.server_port}/alerts"},
            headers=fwd,
        )
        assert hook.status_code == 201
        shipment = client.post(
            "/api/v1/shipments", json={"reference": "LATE", "route": ROUTE}, headers=fwd
        ).json()
        plan = Itinerary.model_validate(shipment["itinerary"])
        # Held 5 days before the Caspian crossing: the ferry is missed and everything after slips.
        ferry = next(i for i, leg in enumerate(plan.legs) if leg.mode == "ferry")
        late = plan.legs[ferry].departure + timedelta(days=5, hours=1)
        events = events_for(
            plan,
            shipment["id"],
            container_numbers(3, 1),
            delay_leg=ferry,
            delay_h=5 * 24,
            until=late,
            noise_h=0,
        )
        assert (
            client.post(
                "/api/v1/epcis/capture", json=document(events, plan.ready), headers=fwd
            ).status_code
            == 202
        )
        deadline = time.monotonic() + 15
        alerts = []
        while time.monotonic() < deadline:
            alerts = client.get("/api/v1/alerts", headers=fwd).json()
            if alerts and alerts[0]["status"] in ("delivered", "failed"):
                break
            time.sleep(0.05)
    server.shutdown()
    server.server_close()
    assert len(alerts) == 1
    assert alerts[0]["slip_h"] > 24
    assert alerts[0]["status"] == "delivered"
    assert alerts[0]["attempts"] == 2  # the first delivery got HTTP 500 and was retried
    assert len(_Hook.calls) == 2
    assert _Hook.calls[-1]["shipment_id"] == shipment["id"]
    assert _Hook.calls[-1]["type"] == "eta_slip"
    get_settings.cache_clear()
