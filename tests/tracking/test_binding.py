"""The EPCIS REST binding over HTTP on SQLite and PostgreSQL: safety (issue 9) and the binding."""

from __future__ import annotations

import copy
import json
import threading
from concurrent.futures import ThreadPoolExecutor
from urllib.parse import quote

import pytest
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.routing import Itinerary
from corridor.settings import Settings
from corridor.tracking.generator import container_numbers, document, events_for
from tests.api.conftest import ADMIN, CUSTOMS_AZ, FORWARDER, OTHER, Api

VIA_AZ = {
    "origin": "dostyk",
    "destination": "tbilisi",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 1,
    "via": ["aktau_port"],
    "best": "time",
}
LD = {"Content-Type": "application/ld+json"}
CAPTURE = "/api/v1/epcis/capture"
EVENTS = "/api/v1/epcis/events"


@pytest.fixture
def api(seeded, tmp_path):
    settings = Settings(var_dir=tmp_path, epcis_max_body_mb=0.5, alert_debounce_s=3600)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        yield Api(client, seeded.passwords, seeded.db)


def book(api, headers, route=VIA_AZ):
    shipment = api.client.post(
        "/api/v1/shipments", json={"reference": "T", "route": route}, headers=headers
    ).json()
    return shipment, Itinerary.model_validate(shipment["itinerary"])


def eventlist(response):
    assert response.status_code == 200, response.text
    return response.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]


def test_concurrent_captures_of_the_same_events_never_hang_or_fail(api):
    fwd = api.headers(FORWARDER)
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(1, 1), noise_h=0)[:4]
    body = json.dumps(document(events, plan.ready))
    with ThreadPoolExecutor(12) as pool:
        answers = list(
            pool.map(
                lambda _: api.client.post(CAPTURE, content=body, headers={**fwd, **LD}), range(12)
            )
        )
    assert [a.status_code for a in answers] == [202] * 12
    assert sum(a.json()["result"]["captured"] for a in answers) == len(events)
    assert len(eventlist(api.client.get(EVENTS, headers=fwd))) == len(events)
    # Different content under one new eventID, at once: exactly one wins, the rest get 409.
    clash = [copy.deepcopy(events[0]) for _ in range(8)]
    for k, event in enumerate(clash):
        event["eventID"] = "urn:uuid:0b7d3ab7-0000-4000-8000-000000000001"
        event["disposition"] = ["in_transit", "in_progress", "active", "damaged"][k % 4]
        event["eventTime"] = f"2026-03-0{k + 1}T00:00:00.000Z"
    with ThreadPoolExecutor(8) as pool:
        answers = list(
            pool.map(
                lambda e: api.client.post(
                    CAPTURE, json=document([e], plan.ready), headers={**fwd, **LD}
                ),
                clash,
            )
        )
    codes = sorted(a.status_code for a in answers)
    assert codes == [202] + [409] * 7, [a.text for a in answers]
    assert api.client.get("/api/v1/health").status_code == 200


def test_tenants_see_and_correct_only_what_is_theirs(api):
    fwd, other, customs, admin = (api.headers(u) for u in (FORWARDER, OTHER, CUSTOMS_AZ, ADMIN))
    shipment, plan = book(api, fwd)
    events = events_for(plan, shipment["id"], container_numbers(2, 1), noise_h=0)[:3]
    assert (
        api.client.post(CAPTURE, json=document(events, plan.ready), headers=fwd).status_code == 202
    )
    # Another forwarder reuses an eventID with an error declaration on its own shipment: refused.
    own, _ = book(api, other)
    forged = copy.deepcopy(events[0])
    forged["bizTransactionList"][0]["bizTransaction"] = f"urn:corridor:shipment:{own['id']}"
    forged["errorDeclaration"] = {
        "declarationTime": "2026-03-10T00:00:00Z",
        "reason": "incorrect_data",
    }
    refused = api.client.post(CAPTURE, json=document([forged], plan.ready), headers=other)
    assert refused.status_code == 403
    assert refused.json()["errors"][0]["index"] == 0
    assert len(eventlist(api.client.get(EVENTS, headers=fwd))) == 3
    state = api.client.get(f"/api/v1/shipments/{shipment['id']}/tracking", headers=fwd).json()
    assert state["events"] == 3
    # Visibility follows the shipment: the route passes Azerbaijan, so its customs sees them.
    assert len(eventlist(api.client.get(EVENTS, headers=other))) == 0
    assert len(eventlist(api.client.get(EVENTS, headers=customs))) == 3
    assert len(eventlist(api.client.get(EVENTS, headers=admin))) == 3
    one = quote(events[0]["eventID"], safe="")
    assert api.client.get(f"{EVENTS}/{one}", headers=other).status_code == 404
    assert api.client.get(f"{EVENTS}/{one}", headers=customs).status_code == 200
    # A shipment that does not pass Azerbaijan stays hidden from its customs.
    route = {
        "origin": "dostyk",
        "destination": "aktau_port",
        "ready": "2026-03-03T08:00:00Z",
        "containers": 1,
    }
    inland, inland_plan = book(api, fwd, route)
    more = events_for(inland_plan, inland["id"], container_numbers(3, 1), noise_h=0, seed=5)[:2]
    assert api.client.post(CAPTURE, json=document(more, plan.ready), headers=fwd).status_code == 202
    assert len(eventlist(api.client.get(EVENTS, headers=customs))) == 3
    assert len(eventlist(api.client.get(EVENTS, headers=fwd))) == 5


BAD_BODIES = [
    b'{"type": "EPCISDocument", "x": NaN}',
    b'{"type": "EPCISDocument", "x": 1e309}',
    b'{"type": "EPCISDocument", "x": "\\udc00"}',
    b'{"a":' + b"[" * 935 + b"]" * 935 + b"}",
    b"[]",
    b"",
]


def test_bad_bodies_are_4xx_and_store_nothing(api):
    admin = api.headers(ADMIN)
    for raw in BAD_BODIES:
        response = api.client.post(CAPTURE, content=raw, headers={**admin, **LD})
        assert 400 <= response.status_code < 500, (raw[:40], response.text)
        # The edge middleware (api/middleware.py) may answer first, in the house error shape.
        assert "json" in response.headers["content-type"]
    assert eventlist(api.client.get(EVENTS, headers=admin)) == []


def test_bad_events_and_queries_are_4xx(api):
    admin = api.headers(ADMIN)
    base = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
    }
    for event in (
        {**base, "eventTime": "9999-12-31T23:59:59-14:00"},
        {**base, "eventTime": "0001-01-01T00:00:00+14:00"},
        {**base, "eventID": "urn:uuid:" + "x" * 300},
    ):
        response = api.client.post(CAPTURE, json=document([event], _T), headers=admin)
        assert response.status_code in (400, 422), response.text  # 422: the edge's date check
    surrogate = b'{"@context":["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],"type":"EPCISDocument","schemaVersion":"2.0","creationDate":"2026-03-01T10:00:00Z","epcisBody":{"eventList":[{"type":"ObjectEvent","eventID":"urn:\\ud800","eventTime":"2026-03-01T10:00:00Z","eventTimeZoneOffset":"+00:00","action":"OBSERVE"}]}}'
    refused = api.client.post(CAPTURE, content=surrogate, headers={**admin, **LD})
    assert refused.status_code in (400, 422)  # 422: refused by the edge middleware first
    for params in (
        {"GE_eventTime": "9999-12-31T23:59:59-14:00"},
        {"LT_eventTime": "0001-01-01T00:00:00+14:00"},
        {"nextPageToken": "aTo5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5OTk5"},
        {"MATCH_epc": "|".join(f"urn:epc:id:bic:CRDU{i:07d}" for i in range(1000))},
        {"perPage": "many"},
        {"perPage": "0"},
    ):
        response = api.client.get(EVENTS, params=params, headers=admin)
        assert response.status_code in (400, 422), (params, response.text)


_T = __import__("datetime").datetime(2026, 3, 1, tzinfo=__import__("datetime").UTC)


def test_limits_media_types_versions_and_discovery(api):
    admin = api.headers(ADMIN)
    big = b'{"pad": "' + b"x" * 600_000 + b'"}'
    assert api.client.post(CAPTURE, content=big, headers={**admin, **LD}).status_code == 413
    # EPCIS XML is served (tests/tracking/test_xml_api.py); other media types are not.
    plain = api.client.post(
        CAPTURE, content=b"epcis", headers={**admin, "Content-Type": "text/plain"}
    )
    assert plain.status_code == 415
    assert api.client.get(EVENTS, headers={**admin, "Accept": "text/csv"}).status_code == 406
    assert api.client.get(EVENTS, headers={**admin, "Accept": "application/xml"}).status_code == 200
    assert api.client.get(EVENTS, headers={**admin, "GS1-EPCIS-Version": "1.2"}).status_code == 406
    assert api.client.get(EVENTS, headers={**admin, "GS1-EPCIS-Min": "2.1.0"}).status_code == 406
    ok = api.client.get(EVENTS, headers={**admin, "Accept": "application/ld+json"})
    assert ok.headers["content-type"] == "application/ld+json"
    assert ok.headers["GS1-EPCIS-Version"] == "2.0.0"
    options = api.client.options(CAPTURE)
    assert options.status_code == 204
    assert options.headers["GS1-EPCIS-Capture-File-Size-Limit"] == str(int(0.5 * 2**20))
    assert "POST" in options.headers["Allow"]
    top = api.client.get("/api/v1/epcis", headers=admin).json()
    assert {"capture", "events", "queries", "bizSteps"} <= set(top["member"])


def test_single_event_resources_and_conflicts(api):
    admin = api.headers(ADMIN)
    event = {
        "@context": ["https://ref.gs1.org/standards/epcis/2.0.0/epcis-context.jsonld"],
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "epcList": ["urn:epc:id:bic:CSQU3054383"],
        "action": "OBSERVE",
        "bizStep": "loading",
        "readPoint": {"id": "urn:corridor:node:aktau_port"},
    }
    created = api.client.post(EVENTS, json=event, headers={**admin, **LD})
    assert created.status_code == 201, created.text
    fetched = api.client.get(created.headers["Location"], headers=admin)
    (stored,) = eventlist(fetched)
    assert stored["eventID"].startswith("ni:///sha-256;")  # GS1 event hash for an event without id
    assert stored["recordTime"].endswith("Z")
    named = {**event, "eventID": "urn:uuid:5d1c9bd4-aaaa-4bbb-8ccc-000000000001"}
    assert api.client.post(EVENTS, json=named, headers=admin).status_code == 201
    clash = api.client.post(EVENTS, json={**named, "action": "ADD"}, headers=admin)
    assert clash.status_code == 409
    assert clash.json()["errors"][0]["index"] == 0
    for resource, member in (
        ("bizSteps", "loading"),
        ("readPoints", "urn:corridor:node:aktau_port"),
        ("epcs", "urn:epc:id:bic:CSQU3054383"),
        ("eventTypes", "ObjectEvent"),
    ):
        members = api.client.get(f"/api/v1/epcis/{resource}", headers=admin).json()["member"]
        assert member in members, resource
        found = eventlist(
            api.client.get(
                f"/api/v1/epcis/{resource}/{quote(member, safe='')}/events", headers=admin
            )
        )
        assert len(found) == 2, resource


def test_named_query_and_websocket_subscription_resume_in_order(api):
    admin = api.headers(ADMIN)
    made = api.client.post(
        "/api/v1/epcis/queries",
        json={"name": "loads", "query": {"EQ_bizStep": "loading"}},
        headers=admin,
    )
    assert made.status_code == 201, made.text
    token = admin["Authorization"].removeprefix("Bearer ")

    def event(n, step="loading"):
        return {
            "type": "ObjectEvent",
            "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}",
            "eventTime": "2026-03-01T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:bic:CSQU3054383"],
            "action": "OBSERVE",
            "bizStep": step,
        }

    url = "/api/v1/epcis/queries/loads/subscriptions"
    durable = api.client.post(url, json={"reportFromStart": True}, headers=admin).json()
    sub_id = durable["subscriptionID"]
    first = api.client.post(
        CAPTURE, json=document([event(1), event(2, "shipping"), event(3)], _T), headers=admin
    )
    assert first.status_code == 202, first.text
    with api.client.websocket_connect(f"{url}?access_token={token}&subscriptionID={sub_id}") as ws:
        assert ws.receive_json() == {"subscriptionID": sub_id}
        got = ws.receive_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"][-1] for e in got] == ["1", "3"]
    # Away: two more are captured; on return the subscriber gets exactly those, in order.
    later = api.client.post(CAPTURE, json=document([event(4), event(5)], _T), headers=admin)
    assert later.status_code == 202, later.text
    with api.client.websocket_connect(f"{url}?access_token={token}&subscriptionID={sub_id}") as ws:
        assert ws.receive_json() == {"subscriptionID": sub_id}
        got = ws.receive_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"][-1] for e in got] == ["4", "5"]
    # Live: a new WebSocket subscription receives what is captured while it is open.
    with api.client.websocket_connect(f"{url}?access_token={token}") as ws:
        live_id = ws.receive_json()["subscriptionID"]
        assert live_id != sub_id
        now = api.client.post(CAPTURE, json=document([event(6)], _T), headers=admin)
        assert now.status_code == 202, now.text
        got = ws.receive_json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"][-1] for e in got] == ["6"]
    assert len(eventlist(api.client.get("/api/v1/epcis/queries/loads/events", headers=admin))) == 5


def test_webhook_subscription_is_signed_ordered_and_guarded(api, db):
    from http.server import BaseHTTPRequestHandler, HTTPServer

    from corridor.store.tracking_subscriptions import deliver_webhooks
    from corridor.webhooks import verify
    from corridor.webhooks.guard import parse_allowed

    calls = []

    class Hook(BaseHTTPRequestHandler):
        def do_POST(self):
            body = self.rfile.read(int(self.headers["Content-Length"]))
            calls.append((self.headers["Corridor-Signature"], body))
            self.send_response(204)
            self.end_headers()

        def log_message(self, *args):
            pass

    server = HTTPServer(("127.0.0.1", 0), Hook)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    admin = api.headers(ADMIN)
    api.client.post("/api/v1/epcis/queries", json={"name": "all", "query": {}}, headers=admin)
    hook = f"http://127.0.0.1:{server.server_port}/epcis"
    refused = api.client.post(
        "/api/v1/epcis/queries/all/subscriptions", json={"dest": hook}, headers=admin
    )
    assert refused.status_code == 400  # loopback is not allowed by these settings
    assert "127.0.0.1" not in refused.text.replace(hook, "")
    from corridor.store.accounts import principal_for
    from corridor.store.tracking_subscriptions import subscribe

    with db.session() as s:
        who = principal_for(s, admin["Authorization"].removeprefix("Bearer "))
        _, secret = subscribe(s, who, "all", hook, allowed=parse_allowed(["127.0.0.1/32"]))
    base = {
        "type": "ObjectEvent",
        "eventTime": "2026-03-01T10:00:00Z",
        "eventTimeZoneOffset": "+00:00",
        "action": "OBSERVE",
        "epcList": ["urn:epc:id:bic:CSQU3054383"],
    }
    events = [{**base, "eventID": f"urn:uuid:00000000-0000-4000-8000-{n:012d}"} for n in range(3)]
    assert api.client.post(CAPTURE, json=document(events, _T), headers=admin).status_code == 202
    try:
        sent = deliver_webhooks(db, 1.0, allowed=parse_allowed(["127.0.0.1/32"]))
        again = deliver_webhooks(db, 1.0, allowed=parse_allowed(["127.0.0.1/32"]))
    finally:
        server.shutdown()
        server.server_close()
    assert (sent, again) == (3, 0)  # each event once
    header, body = calls[0]
    assert verify(secret, body, header)
    delivered = json.loads(body)["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    assert [e["eventID"] for e in delivered] == [e["eventID"] for e in events]


def test_large_documents_are_captured_in_another_process(seeded, tmp_path):
    """Above ``epcis_process_mb`` parsing, validation and storage run in a worker process."""
    settings = Settings(var_dir=tmp_path, epcis_process_mb=0.0)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        api = Api(client, seeded.passwords, seeded.db)
        admin = api.headers(ADMIN)
        base = {
            "type": "ObjectEvent",
            "eventTime": "2026-03-01T10:00:00Z",
            "eventTimeZoneOffset": "+00:00",
            "epcList": ["urn:epc:id:bic:CSQU3054383"],
            "action": "OBSERVE",
        }
        good = client.post(CAPTURE, json=document([base], _T), headers=admin)
        assert good.status_code == 202, good.text
        assert good.json()["result"]["captured"] == 1
        bad = client.post(
            CAPTURE, json=document([base, {**base, "action": "WATCH"}], _T), headers=admin
        )
        assert bad.status_code == 400
        assert bad.json()["errors"][0]["index"] == 1
        job = client.get(bad.headers["Location"], headers=admin).json()
        assert job["success"] is False
        assert len(eventlist(client.get(EVENTS, headers=admin))) == 1
