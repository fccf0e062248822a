"""Shipments rendered once per state (api/shipments.py `rendered`): a change is never served stale."""

from __future__ import annotations

import json

from corridor.api import shipments as shipments_api
from corridor.api.shipments import out
from corridor.store.models import Shipment
from tests.api.conftest import FORWARDER

SHORT = {
    "origin": "aktau_port",
    "destination": "baku",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 1,
    "best": "time",
}


def test_read_and_list_follow_a_cancel_and_match_the_model(api):
    h = api.headers(FORWARDER)
    booked = api.client.post(
        "/api/v1/shipments", json={"reference": "R", "route": SHORT}, headers=h
    )
    assert booked.status_code == 201
    sid = booked.json()["id"]
    first = api.client.get(f"/api/v1/shipments/{sid}", headers=h)
    assert first.status_code == 200
    assert first.headers["content-type"] == "application/json"
    assert first.json() == booked.json()
    # Exactly what the response model gives for the stored row.
    with api.db.session() as s:
        row = s.get(Shipment, sid)
        assert row is not None
        assert first.json() == json.loads(out(row).model_dump_json())
    listed = api.client.get("/api/v1/shipments", params={"status": "planned"}, headers=h).json()
    assert [x for x in listed if x["id"] == sid] == [booked.json()]

    cancelled_answer = api.client.post(f"/api/v1/shipments/{sid}/cancel", headers=h)
    assert cancelled_answer.status_code == 200
    again = api.client.get(f"/api/v1/shipments/{sid}", headers=h).json()
    assert again["status"] == "cancelled"
    assert again["cancelled_at"] is not None
    # The cancel's answer (made without reading the row again) is the stored row.
    with api.db.session() as s:
        row = s.get(Shipment, sid)
        assert row is not None
        stored = json.loads(out(row).model_dump_json())
    assert cancelled_answer.json() == stored == again
    planned = api.client.get("/api/v1/shipments", params={"status": "planned"}, headers=h).json()
    assert sid not in [x["id"] for x in planned]
    cancelled = api.client.get("/api/v1/shipments", params={"status": "cancelled"}, headers=h)
    assert [x["status"] for x in cancelled.json() if x["id"] == sid] == ["cancelled"]


def test_a_list_of_rows_not_rendered_yet_carries_their_itineraries(api):
    h = api.headers(FORWARDER)
    ids = []
    for i in range(3):
        r = api.client.post(
            "/api/v1/shipments", json={"reference": f"L{i}", "route": SHORT}, headers=h
        )
        assert r.status_code == 201
        ids.append(r.json()["id"])
    shipments_api._RENDERED.clear()  # as in another worker, or after the memo dropped them
    listed = api.client.get("/api/v1/shipments", headers=h).json()
    mine = {x["id"]: x for x in listed if x["id"] in ids}
    assert set(mine) == set(ids)
    with api.db.session() as s:
        for sid in ids:
            row = s.get(Shipment, sid)
            assert row is not None
            assert mine[sid] == json.loads(out(row).model_dump_json())
            assert mine[sid]["itinerary"]["legs"]
