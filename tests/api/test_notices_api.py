"""Disruption notices over HTTP on SQLite and PostgreSQL: owners publish, everyone reads, the planner
goes round a closure in the next request, affected shipments get alternatives, one amendment wins."""

from __future__ import annotations

import xml.etree.ElementTree as ET
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from tests.api.conftest import ADMIN, CUSTOMS_AZ, FORWARDER, OTHER, ROUTE

PORT = "port.aktau@demo.corridor"
ASCO = "ferry.asco@demo.corridor"
STORM_START = datetime(2026, 3, 3, tzinfo=UTC)


def storm(**kw):
    body = {
        "kind": "closure",
        "severity": "severe",
        "elements": [{"kind": "node", "id": "aktau_port"}],
        "starts_at": STORM_START.isoformat(),
        "expected_end": (STORM_START + timedelta(days=12)).isoformat(),
        "texts": {"en": "Storm: port closed", "ru": "Шторм: порт закрыт"},
    }
    body.update(kw)
    return body


def legs_at_aktau(itinerary):
    """Legs that arrive at or leave Aktau while the storm notice has it closed."""
    start, end = STORM_START.isoformat(), (STORM_START + timedelta(days=12)).isoformat()
    return [
        leg
        for leg in itinerary["legs"]
        if (leg["to_node"] == "aktau_port" and start <= leg["arrival"] < end)
        or (leg["from_node"] == "aktau_port" and start <= leg["departure"] < end)
    ]


def test_a_storm_notice_reroutes_the_next_plan_and_lists_the_hit_shipment(api):
    forwarder = api.headers(FORWARDER)
    request = {**ROUTE, "corridor": "middle-aktau-btk", "best": "time"}
    before = api.client.post("/api/v1/routes", json=request, headers=forwarder).json()
    assert legs_at_aktau(before["itineraries"][0]), "the test needs a plan through Aktau"
    booked = api.client.post(
        "/api/v1/shipments", json={"reference": "PO-1", "route": request}, headers=forwarder
    )
    assert booked.status_code == 201, booked.text

    published = api.client.post("/api/v1/notices", json=storm(), headers=api.headers(PORT))
    assert published.status_code == 201, published.text
    notice = published.json()
    assert notice["version"] == 1
    assert notice["issuer_name"].startswith("Aktau")

    after = api.client.post("/api/v1/routes", json=request, headers=forwarder)
    assert after.status_code == 200, after.text
    assert not legs_at_aktau(after.json()["itineraries"][0])
    assert [n["id"] for n in after.json()["disruptions"]] == [notice["id"]]
    hit = api.client.get("/api/v1/notices/affected/shipments", headers=forwarder).json()
    assert [h["shipment_id"] for h in hit] == [booked.json()["id"]]
    assert hit[0]["legs"][0]["notice_id"] == notice["id"]
    for alternative in hit[0]["alternatives"]:
        assert not legs_at_aktau(alternative)
    assert (
        api.client.get("/api/v1/notices/affected/shipments", headers=api.headers(OTHER)).json()
        == []
    )

    if hit[0]["alternatives"]:
        rebooked = api.client.post(
            f"/api/v1/notices/affected/shipments/{booked.json()['id']}/rebook",
            json={"option": 0},
            headers=forwarder,
        )
        assert rebooked.status_code == 201, rebooked.text
        old = api.client.get(f"/api/v1/shipments/{booked.json()['id']}", headers=forwarder).json()
        assert old["status"] == "cancelled"


def test_only_owners_publish_and_errors_name_the_field(api):
    other_port = storm(elements=[{"kind": "node", "id": "alat_port"}])
    refused = api.client.post("/api/v1/notices", json=other_port, headers=api.headers(PORT))
    assert refused.status_code == 403
    assert refused.json()["error"]["field"] == "elements.0"
    forwarder = api.client.post("/api/v1/notices", json=storm(), headers=api.headers(FORWARDER))
    assert forwarder.status_code == 403
    unknown = storm(elements=[{"kind": "node", "id": "aktau_prt"}])
    answer = api.client.post("/api/v1/notices", json=unknown, headers=api.headers(PORT))
    assert answer.status_code == 422
    assert "aktau_port" in answer.json()["error"]["reason"]
    backwards = storm(expected_end=(STORM_START - timedelta(days=1)).isoformat())
    answer = api.client.post("/api/v1/notices", json=backwards, headers=api.headers(PORT))
    assert answer.status_code == 422
    assert "expected_end" in answer.json()["error"]["reason"] + str(answer.json()["error"]["field"])
    ferry = storm(elements=[{"kind": "service", "id": "asco-aktau-alat-ferry"}], kind="suspension")
    assert (
        api.client.post("/api/v1/notices", json=ferry, headers=api.headers(ASCO)).status_code == 201
    )
    border = storm(elements=[{"kind": "crossing", "id": "x-aktau-alat"}])
    assert (
        api.client.post("/api/v1/notices", json=border, headers=api.headers(CUSTOMS_AZ)).status_code
        == 201
    )
    assert api.client.get("/api/v1/notices").status_code == 200  # reading needs no login
    assert len(api.client.get("/api/v1/notices?country=AZ").json()) == 2  # ferry and border
    assert api.client.get("/api/v1/notices?country=GE").json() == []


def test_amendments_keep_history_and_exactly_one_of_fifty_wins(api):
    port = api.headers(PORT)
    notice = api.client.post("/api/v1/notices", json=storm(), headers=port).json()
    longer = storm(expected_end=(STORM_START + timedelta(days=20)).isoformat())

    def amend(_):
        return api.client.put(
            f"/api/v1/notices/{notice['id']}", json={"version": 1, "notice": longer}, headers=port
        ).status_code

    with ThreadPoolExecutor(max_workers=16) as pool:
        codes = list(pool.map(amend, range(50)))
    assert codes.count(200) == 1, codes
    assert codes.count(409) == 49, codes
    closed = api.client.post(
        f"/api/v1/notices/{notice['id']}/close",
        json={"version": 2, "actual_end": (STORM_START + timedelta(days=4)).isoformat()},
        headers=port,
    )
    assert closed.status_code == 200, closed.text
    again = api.client.put(
        f"/api/v1/notices/{notice['id']}", json={"version": 3, "notice": longer}, headers=port
    )
    assert again.status_code == 409
    history = api.client.get(f"/api/v1/notices/{notice['id']}/history").json()
    assert [h["action"] for h in history] == ["published", "amended", "closed"]
    assert history[0]["notice"]["expected_end"].startswith("2026-03-15")
    assert history[1]["notice"]["expected_end"].startswith("2026-03-23")
    kpis = api.client.get("/api/v1/notices/kpis/2026", headers=api.headers(ADMIN)).json()
    assert kpis["closed_days"] == {"node:aktau_port": 4.0}
    someone_else = api.client.post(
        f"/api/v1/notices/{notice['id']}/close", json={"version": 3}, headers=api.headers(ASCO)
    )
    assert someone_else.status_code == 403


def test_feeds_stream_and_subscriptions_deliver_each_change_once(api):
    forwarder = api.headers(FORWARDER)
    sub = api.client.post(
        "/api/v1/notices/subscriptions",
        json={"filter": {"countries": ["KZ"], "min_severity": "major"}},
        headers=forwarder,
    )
    assert sub.status_code == 201, sub.text
    assert len(sub.json()["secret"]) == 64
    port = api.headers(PORT)
    kept = api.client.post("/api/v1/notices", json=storm(), headers=port).json()
    api.client.post("/api/v1/notices", json=storm(severity="minor"), headers=port)
    events = api.client.get(
        f"/api/v1/notices/subscriptions/{sub.json()['id']}/events", headers=forwarder
    ).json()
    assert [e["notice"]["id"] for e in events] == [kept["id"]]
    assert (
        api.client.get(
            f"/api/v1/notices/subscriptions/{sub.json()['id']}/events", headers=forwarder
        ).json()
        == []
    )

    feed = ET.fromstring(api.client.get("/api/v1/notices/feed.atom?lang=ru").text)
    summaries = [e.findtext("{http://www.w3.org/2005/Atom}summary") for e in feed]
    assert any(s and "Шторм" in s for s in summaries)
    cap = api.client.get(f"/api/v1/notices/{kept['id']}/cap")
    assert cap.headers["content-type"].startswith("application/cap+xml")
    with api.client.stream("GET", "/api/v1/notices/stream?after=0&max_events=2") as response:
        text = "".join(response.iter_text())
    assert text.count("event: notice") == 2
    # The same filters as a subscription: only the severe one of the two.
    query = "after=0&max_events=1&country=KZ&min_severity=severe"
    with api.client.stream("GET", f"/api/v1/notices/stream?{query}") as response:
        text = "".join(response.iter_text())
    assert text.count("event: notice") == 1
    assert kept["id"] in text
    bad = api.client.get("/api/v1/notices/stream?country=kz")
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "country"
    bad = api.client.post(
        "/api/v1/notices/subscriptions",
        json={"filter": {"elements": [{"kind": "node", "id": "nowhere"}]}},
        headers=forwarder,
    )
    assert bad.status_code == 422
    assert bad.json()["error"]["field"] == "filter.elements.0"
