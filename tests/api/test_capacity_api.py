"""Capacity over the API on SQLite and PostgreSQL: no overbooking under 200 concurrent bookers,
itineraries held all or none, carriers' decisions, waitlists, the dispatch board and the e-queue."""

from __future__ import annotations

import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from http.server import BaseHTTPRequestHandler, HTTPServer
from typing import ClassVar

import pytest
from sqlalchemy import func, select, text, update
from sqlalchemy.exc import IntegrityError

from corridor.routing import Itinerary
from corridor.store.capacity_board import deliver_notices
from corridor.store.capacity_tables import CapBooking, CapSlot
from corridor.store.models import User
from corridor.tracking.generator import container_numbers, document, events_for
from corridor.webhooks.guard import parse_allowed
from tests.api.conftest import ADMIN, CUSTOMS_AZ, FORWARDER, OTHER

CARRIER = "ferry.asco@demo.corridor"
FERRY = "asco-aktau-alat-ferry"
API = "/api/v1"


class _Logins(dict):
    """Bearer headers per user, logged in on first use (a login costs an Argon2 hash)."""

    def __init__(self, api):
        super().__init__()
        self.api = api

    def __missing__(self, email):
        self[email] = self.api.headers(email)
        return self[email]


@pytest.fixture
def cap(api):
    api.h = _Logins(api)
    # The test's webhook listens on loopback, which webhooks may reach only when allowed.
    state = api.client.app.state
    state.settings = state.settings.model_copy(update={"webhook_allow_nets": ["127.0.0.0/8"]})
    return api


def sailings(api, **params):
    response = api.client.get(f"{API}/capacity/sailings", params=params, headers=api.h[FORWARDER])
    assert response.status_code == 200, response.text
    return response.json()


def next_ferry(api, skip: int = 0):
    """A future Aktau - Alat rail ferry sailing at its normal capacity (52 wagons, services.csv)."""
    found = [
        s
        for s in sailings(api, from_node="aktau_port", to_node="alat_port", days=21)
        if s["service"] == FERRY and s["capacity"] == 52
    ]
    return found[skip]


def book(api, who, sailing, items, cargo="rail_wagon", **extra):
    body = {
        "service": sailing["service"],
        "from_node": sailing["from_node"],
        "departure": sailing["departure"],
        "cargo": cargo,
        "items": items,
        **extra,
    }
    return api.client.post(f"{API}/capacity/bookings", json=body, headers=api.h[who])


def error(response, status, code, field):
    assert response.status_code == status, response.text
    body = response.json()["error"]
    assert (body["code"], body["field"]) == (code, field), body
    assert body["reason"]
    return body


def test_free_capacity_of_the_next_aktau_alat_sailings(cap):
    rows = sailings(cap, from_node="aktau_port", to_node="alat_port", days=14)
    assert rows
    assert all(r["from_node"] == "aktau_port" and r["to_node"] == "alat_port" for r in rows)
    departures = [r["departure"] for r in rows]
    assert departures == sorted(departures)
    feeder = [r for r in rows if r["service"] == "asco-aktau-alat-feeder"]
    ferry = [r for r in rows if r["service"] == FERRY]
    # The container feeder runs daily (services.csv), the rail ferry twice a week.
    assert 13 <= len(feeder) <= 14
    assert 3 <= len(ferry) <= 5
    assert {r["unit"] for r in feeder} == {"teu"}
    assert {(r["unit"], r["capacity"], r["free"]) for r in ferry} == {("wagons", 52, 52)}
    # The Ro-Pax sails when loaded: its departure is an estimate (no bookings: at the latest,
    # nominal + 24 h, vessels.csv); the feeder keeps its timetable.
    for r in ferry:
        expected = r["expected_departure"]
        assert expected["estimate"] is True
        assert expected["basis"] == "max_wait"
        nominal = datetime.fromisoformat(r["departure"])
        assert datetime.fromisoformat(expected["departure"]) == nominal + timedelta(hours=24)
    assert all(r["expected_departure"]["estimate"] is False for r in feeder)


def test_200_concurrent_bookers_on_10_free_slots_exactly_10_win(cap, db):
    sailing = next_ferry(cap)
    assert book(cap, OTHER, sailing, 42).status_code == 201  # 52 - 42 = 10 free
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda _: book(cap, FORWARDER, sailing, 1), range(200)))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: 10, 409: 190}, statuses
    for answer in answers:
        if answer.status_code == 409:
            body = error(answer, 409, "full", "departure")
            assert body["next_sailings"], body
            for alt in body["next_sailings"]:
                assert alt["free"] >= 1
                assert alt["departure"] > sailing["departure"]
    with db.session() as s:
        slot = s.scalar(select(CapSlot).where(CapSlot.service == FERRY))
        assert (slot.capacity, slot.held, slot.confirmed) == (52, 52, 0)
        held = s.scalar(
            select(func.sum(CapBooking.units)).where(
                CapBooking.slot_id == slot.id, CapBooking.state == "held"
            )
        )
        assert held == 52
    after = next(s for s in sailings(cap, service=FERRY, days=21) if s["key"] == sailing["key"])
    assert (after["free"], after["load_factor"]) == (0, 1.0)


def test_the_database_itself_refuses_an_overbooking_update(cap, db):
    sailing = next_ferry(cap)
    assert book(cap, FORWARDER, sailing, 1).status_code == 201
    overbook = update(CapSlot).values(held=CapSlot.capacity + 1)
    with db.session() as s:
        with pytest.raises(IntegrityError, match=r"(?i)check"):
            s.execute(overbook)
        s.rollback()
    with db.session() as s:
        assert s.scalar(select(CapSlot.held)) == 1


def _dostyk_to_tbilisi(ready: datetime) -> dict:
    return {
        "origin": "dostyk",
        "destination": "tbilisi",
        "ready": ready.isoformat(),
        "containers": 2,
        "via": ["aktau_port"],
        "best": "time",
    }


def test_an_itinerary_holds_every_leg_and_the_planner_goes_around_full_sailings(cap):
    ready = (datetime.now(UTC) + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    route = _dostyk_to_tbilisi(ready)
    first = cap.client.post(
        f"{API}/capacity/itineraries",
        json={"reference": "CAP-1", "route": route},
        headers=cap.h[FORWARDER],
    )
    assert first.status_code == 201, first.text
    body = first.json()
    plan = Itinerary.model_validate(body["shipment"]["itinerary"])
    managed = [leg for leg in plan.legs if leg.service]
    assert len(managed) >= 2
    legs = [b for b in body["bookings"] if b["unit"] != "trains"]
    paths = [b for b in body["bookings"] if b["unit"] == "trains"]
    assert sorted(b["service"] for b in legs) == sorted(
        leg.service for leg in managed if leg.service
    )
    # ... and one train path at each rail border crossing the trains pass (crossings.csv)
    borders = [
        c.id for leg in plan.legs if leg.mode == "rail" for c in leg.crossings if c.kind == "border"
    ]
    assert borders
    assert sorted(b["service"] for b in paths) == sorted(borders)
    assert {b["state"] for b in body["bookings"]} == {"held"}
    assert {b["units"] for b in legs} == {4}  # two 40-ft boxes = 4 TEU
    assert {b["units"] for b in paths} == {1}
    assert len({b["group_id"] for b in body["bookings"]}) == 1
    assert body["skipped_full"] == []
    # Another forwarder fills the sea leg; the planner now goes around it and says so.
    sea = next(leg for leg in managed if leg.from_node == "aktau_port")
    slot = next(
        s
        for s in sailings(cap, service=sea.service, from_node="aktau_port", days=30)
        if datetime.fromisoformat(s["departure"]) == sea.departure.replace(second=0, microsecond=0)
    )
    assert slot["held"] == 4
    filler = book(cap, OTHER, slot, slot["free"] // 2, cargo="40GP")
    assert filler.status_code == 201, filler.text
    planned = cap.client.post(f"{API}/capacity/routes", json=route, headers=cap.h[FORWARDER])
    assert planned.status_code == 200, planned.text
    answer = planned.json()
    assert [(x["service"], x["departure"]) for x in answer["skipped_full"]] == [
        (sea.service, slot["departure"])
    ]
    option = Itinerary.model_validate(answer["options"][0]["itinerary"])
    new_sea = next(leg for leg in option.legs if leg.from_node == "aktau_port")
    assert new_sea.departure > sea.departure
    loads = answer["options"][0]["loads"]
    assert {load["service"] for load in loads} >= {new_sea.service}
    assert all(0 <= load["load_factor"] <= 1 for load in loads)
    second = cap.client.post(
        f"{API}/capacity/itineraries",
        json={"reference": "CAP-2", "route": route},
        headers=cap.h[FORWARDER],
    )
    assert second.status_code == 201, second.text
    assert second.json()["skipped_full"]
    assert slot["key"] not in {b["id"] for b in second.json()["bookings"]}


def test_the_line_confirms_and_forwarders_see_only_their_own(cap):
    sailing = next_ferry(cap)
    booking = book(cap, FORWARDER, sailing, 5).json()
    assert (booking["state"], booking["units"], booking["unit"]) == ("held", 5, "wagons")
    url = f"{API}/capacity/bookings/{booking['id']}"
    error(
        cap.client.post(f"{url}/confirm", headers=cap.h[FORWARDER]), 403, "forbidden", "booking_id"
    )
    error(cap.client.get(url, headers=cap.h[OTHER]), 404, "not_found", "booking_id")
    assert booking["id"] not in {
        b["id"] for b in cap.client.get(f"{API}/capacity/bookings", headers=cap.h[OTHER]).json()
    }
    carrier_view = cap.client.get(f"{API}/capacity/bookings", headers=cap.h[CARRIER]).json()
    assert booking["id"] in {b["id"] for b in carrier_view}
    confirmed = cap.client.post(f"{url}/confirm", json={"note": "ok"}, headers=cap.h[CARRIER])
    assert confirmed.status_code == 200, confirmed.text
    assert (confirmed.json()["state"], confirmed.json()["expires_at"]) == ("confirmed", None)
    error(cap.client.post(f"{url}/confirm", headers=cap.h[CARRIER]), 409, "conflict", "state")
    row = next(s for s in sailings(cap, service=FERRY, days=21) if s["key"] == sailing["key"])
    assert (row["held"], row["confirmed"], row["free"]) == (0, 5, 47)
    # The carrier moves it to the next sailing; capacity follows.
    target = next_ferry(cap, skip=1)
    moved = cap.client.post(
        f"{url}/move", json={"departure": target["departure"]}, headers=cap.h[CARRIER]
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["state"], moved.json()["departure"]) == ("confirmed", target["departure"])
    assert cap.client.get(url, headers=cap.h[FORWARDER]).json()["state"] == "moved"
    rows = {s["key"]: s for s in sailings(cap, service=FERRY, days=21)}
    assert rows[sailing["key"]]["confirmed"] == 0
    assert rows[target["key"]]["confirmed"] == 5


def test_confirming_an_expired_hold_is_refused(cap, db):
    booking = book(cap, FORWARDER, next_ferry(cap), 2).json()
    with db.session() as s:
        s.execute(
            update(CapBooking)
            .where(CapBooking.id == booking["id"])
            .values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )
    answer = cap.client.post(
        f"{API}/capacity/bookings/{booking['id']}/confirm", headers=cap.h[CARRIER]
    )
    error(answer, 409, "expired", "expires_at")
    # The sweep (run by the server every few seconds) frees the lapsed hold.
    # (The server's upkeep thread may get there first: either way the hold ends expired.)
    swept = cap.client.post(f"{API}/capacity/sweep", headers=cap.h[ADMIN])
    assert swept.json()["expired_holds"] in (0, 1)
    with db.session() as s:
        assert s.scalar(select(func.sum(CapSlot.held))) == 0
    assert (
        cap.client.get(f"{API}/capacity/bookings/{booking['id']}", headers=cap.h[FORWARDER]).json()[
            "state"
        ]
        == "expired"
    )


class _Hook(BaseHTTPRequestHandler):
    calls: ClassVar[list[bytes]] = []
    promoted: ClassVar[threading.Event] = threading.Event()

    def do_POST(self):
        self.calls.append(self.rfile.read(int(self.headers["Content-Length"])))
        if b"promoted" in self.calls[-1]:
            self.promoted.set()
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args):
        pass


def _events(api, who, after=0):
    response = api.client.get(
        f"{API}/capacity/stream", params={"after": after, "once": True}, headers=api.h[who]
    )
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/event-stream")
    return response.text


def test_cancelling_promotes_the_waitlist_with_a_live_event_and_a_webhook(cap, db):
    server = HTTPServer(("127.0.0.1", 0), _Hook)
    _Hook.calls = []
    _Hook.promoted = threading.Event()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    hook = cap.client.post(
        f"{API}/webhooks",
        json={"url": f"http://127.0.0.1:{server.server_port}/cap"},
        headers=cap.h[OTHER],
    )
    assert hook.status_code == 201
    sailing = next_ferry(cap)
    big = book(cap, FORWARDER, sailing, 50).json()
    error(book(cap, OTHER, sailing, 3), 409, "full", "departure")
    waiting = book(cap, OTHER, sailing, 3, waitlist=True)
    assert waiting.status_code == 201, waiting.text
    assert waiting.json()["state"] == "waitlisted"
    row = next(s for s in sailings(cap, service=FERRY, days=21) if s["key"] == sailing["key"])
    assert (row["held"], row["waitlisted"]) == (50, 3)
    cancelled = cap.client.post(
        f"{API}/capacity/bookings/{big['id']}/cancel", headers=cap.h[FORWARDER]
    )
    assert cancelled.json()["state"] == "cancelled"
    promoted = cap.client.get(
        f"{API}/capacity/bookings/{waiting.json()['id']}", headers=cap.h[OTHER]
    ).json()
    assert promoted["state"] == "held"
    assert promoted["expires_at"] is not None
    # The promoted forwarder hears it live; the other forwarder does not see its booking.
    assert "event: promoted" in _events(cap, OTHER)
    mine = _events(cap, FORWARDER)
    assert "event: promoted" not in mine
    assert waiting.json()["id"] not in mine
    assert "event: held" in mine  # public slot counters
    deliver_notices(db, 0.01, allowed=parse_allowed(["127.0.0.0/8"]))  # (or the upkeep thread)
    assert _Hook.promoted.wait(10), _Hook.calls
    assert any(b"promoted" in call for call in _Hook.calls)
    server.shutdown()
    server.server_close()


BAD_BOOKINGS = [
    ({"items": 0}, 422, "invalid", "items"),
    ({"items": -3}, 422, "invalid", "items"),
    ({"items": 53}, 422, "invalid", "items"),
    ({"cargo": "boat"}, 422, "invalid", "cargo"),
    ({"service": "caspian-turkmenbashi-alat", "cargo": "truck"}, 422, "invalid", "cargo"),
    ({"service": "nope"}, 404, "not_found", "service"),
    ({"from_node": "poti_port"}, 422, "invalid", "from_node"),
    ({"departure": "2030-01-01T03:17:00Z"}, 404, "not_found", "departure"),
    ({"departure": "yesterday"}, 422, "invalid", "departure"),
]


def test_bad_bookings_name_the_field_and_write_nothing(cap, db):
    sailing = next_ferry(cap)
    rail_only = sailings(cap, service="caspian-turkmenbashi-alat", days=14)[0]
    for change, status, code, field in BAD_BOOKINGS:
        body = {
            "service": sailing["service"],
            "from_node": sailing["from_node"],
            "departure": sailing["departure"],
            "cargo": "rail_wagon",
            "items": 1,
        }
        if change.get("service") == "caspian-turkmenbashi-alat":
            body |= {"from_node": rail_only["from_node"], "departure": rail_only["departure"]}
        response = cap.client.post(
            f"{API}/capacity/bookings", json=body | change, headers=cap.h[FORWARDER]
        )
        error(response, status, code, field)
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CapBooking)) == 0
        assert not s.scalar(select(func.sum(CapSlot.held)))


def test_booking_needs_a_valid_token(cap, db):
    sailing = next_ferry(cap)
    body = {k: sailing[k] for k in ("service", "from_node", "departure")}
    body |= {"cargo": "rail_wagon", "items": 1}
    missing = cap.client.post(f"{API}/capacity/bookings", json=body)
    error(missing, 401, "unauthorized", "Authorization")
    forged = cap.client.post(
        f"{API}/capacity/bookings", json=body, headers={"Authorization": "Bearer nope"}
    )
    error(forged, 401, "unauthorized", "Authorization")
    with db.session() as s:
        assert s.scalar(select(func.count()).select_from(CapBooking)) == 0
    spec = cap.client.get("/api/v1/openapi.json").json()
    assert spec["paths"]["/api/v1/capacity/bookings"]["post"]["security"]


def test_a_departed_sailing_takes_no_booking(cap):
    past = [
        s
        for s in sailings(
            cap,
            service=FERRY,
            days=7,
            start=(datetime.now(UTC) - timedelta(days=7)).isoformat(),
        )
        if datetime.fromisoformat(s["departure"]) < datetime.now(UTC)
    ]
    error(book(cap, FORWARDER, past[-1], 1), 422, "departed", "departure")


def test_only_forwarders_book_and_only_the_lines_carrier_decides(cap, db):
    error(book(cap, CARRIER, next_ferry(cap), 1), 403, "forbidden", "organisation")
    booking = book(cap, FORWARDER, next_ferry(cap), 1).json()
    url = f"{API}/capacity/bookings/{booking['id']}/confirm"
    port = "port.aktau@demo.corridor"  # a carrier, but not the ferry line's operator
    error(cap.client.post(url, headers=cap.h[port]), 404, "not_found", "booking_id")
    with db.session() as s:
        port_org = s.scalar(select(User.organisation_id).where(User.email == port))
    made = cap.client.put(
        f"{API}/organisations/{port_org}/operators",
        json={"operators": ["Aktau International Sea Trade Port", "ASCO"]},
        headers=cap.h[ADMIN],
    )
    assert made.status_code == 200, made.text
    confirmed = cap.client.post(url, headers=cap.h[port])
    assert confirmed.status_code == 200, confirmed.text
    assert confirmed.json()["state"] == "confirmed"


def test_dispatch_board_shows_bookings_and_the_waiting_stock_at_the_port(cap, db):
    sailing = next_ferry(cap)
    assert book(cap, FORWARDER, sailing, 26).status_code == 201
    # A shipment whose boxes arrived at Aktau and wait for the ferry (tracking events).
    ready = (datetime.now(UTC) - timedelta(days=6)).replace(minute=0, second=0, microsecond=0)
    shipment = cap.client.post(
        f"{API}/shipments",
        json={"reference": "WAIT", "route": _dostyk_to_tbilisi(ready) | {"containers": 3}},
        headers=cap.h[FORWARDER],
    ).json()
    plan = Itinerary.model_validate(shipment["itinerary"])
    ferry = next(i for i, leg in enumerate(plan.legs) if leg.from_node == "aktau_port")
    boxes = container_numbers(11, 3)
    until = plan.legs[ferry - 1].arrival + timedelta(minutes=30)
    events = events_for(plan, shipment["id"], boxes, until=until, noise_h=0)
    captured = cap.client.post(
        f"{API}/epcis/capture",
        json=document(events, until),
        headers={**cap.h[FORWARDER], "Content-Type": "application/ld+json"},
    )
    assert captured.status_code == 202, captured.text  # a capture job, finished (small document)
    board = cap.client.get(
        f"{API}/capacity/board", params={"days": 14, "alert_days": 0.01}, headers=cap.h[CARRIER]
    )
    assert board.status_code == 200, board.text
    b = board.json()
    line = next(x for x in b["lines"] if x["key"] == sailing["key"])
    assert (line["held"], line["load_factor"]) == (26, 0.5)
    heat = b["heat_map"]
    assert len(heat["days"]) == 14
    assert len(heat["cells"]) == len(heat["rows"])
    row = heat["rows"].index(f"{FERRY} aktau_port>alat_port")
    col = heat["days"].index(sailing["departure"][:10])
    assert heat["cells"][row][col] == 0.5
    if until < datetime.now(UTC):
        assert b["waiting"]["aktau_port"] == 3
        assert any(a["port"] == "aktau_port" for a in b["alerts"])
    assert len(b["waiting_history"]) == 15
    assert b["daily_ferry_capacity"]["aktau_port"] > 0
    assert b["last_event"] > 0


def test_the_e_queue_issues_tickets_that_verify_and_check_in_once(cap):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    body = {
        "checkpoint": "x-khorgos",
        "date": tomorrow,
        "hour": 10,
        "plate": "123 abc 02",
        "driver": "A. Driver",
        "tier": "priority",
    }
    issued = cap.client.post(f"{API}/queue/tickets", json=body, headers=cap.h[FORWARDER])
    assert issued.status_code == 201, issued.text
    ticket = issued.json()
    assert (ticket["plate"], ticket["fee_mci"], ticket["fee_kzt_2025"]) == (
        "123 ABC 02",
        100,
        393_200,
    )
    svg = cap.client.get(f"{API}/queue/tickets/{ticket['id']}/qr.svg", headers=cap.h[FORWARDER])
    assert svg.headers["content-type"].startswith("image/svg+xml")
    assert "<svg" in svg.text
    png = cap.client.get(f"{API}/queue/tickets/{ticket['id']}/qr.png", headers=cap.h[FORWARDER])
    assert png.content.startswith(b"\x89PNG")
    ok = cap.client.post(f"{API}/queue/verify", json={"ticket": ticket["token"]})
    assert ok.status_code == 200
    assert (ok.json()["valid"], ok.json()["plate"]) == (True, "123 ABC 02")
    head, payload, sig = ticket["token"].split(".")
    tampered = f"{head}.{payload[:-2]}{'A' if payload[-2] != 'A' else 'B'}{payload[-1]}.{sig}"
    error(
        cap.client.post(f"{API}/queue/verify", json={"ticket": tampered}),
        422,
        "invalid_ticket",
        "ticket",
    )
    hours = cap.client.get(
        f"{API}/queue/checkpoints/x-khorgos/hours",
        params={"date": tomorrow},
        headers=cap.h[FORWARDER],
    ).json()
    assert (hours[10]["capacity"], hours[10]["booked"]) == (30, 1)
    board = cap.client.get(f"{API}/capacity/board", params={"days": 3}, headers=cap.h[ADMIN]).json()
    day = next(x for x in board["lines"] if x["key"] == f"x-khorgos|{tomorrow.replace('-', '')}")
    assert (day["kind"], day["capacity"], day["held"]) == ("crossing", 30 * 24, 1)
    assert "x-khorgos (road e-queue)" in board["heat_map"]["rows"]
    again = cap.client.post(f"{API}/queue/tickets", json=body, headers=cap.h[FORWARDER])
    error(again, 409, "conflict", "plate")
    early = cap.client.post(
        f"{API}/queue/checkin", json={"ticket": ticket["token"]}, headers=cap.h[CUSTOMS_AZ]
    )
    error(early, 409, "conflict", "ticket")
    error(
        cap.client.post(
            f"{API}/queue/checkin", json={"ticket": ticket["token"]}, headers=cap.h[FORWARDER]
        ),
        403,
        "forbidden",
        "organisation",
    )


def test_e_queue_bad_input(cap):
    tomorrow = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    base = {
        "checkpoint": "x-khorgos",
        "date": tomorrow,
        "hour": 10,
        "plate": "777 KZ 01",
        "driver": "B. Driver",
    }
    cases = [
        ({"checkpoint": "x-bolashak"}, 422, "invalid", "checkpoint"),
        ({"checkpoint": "x-nowhere"}, 404, "not_found", "checkpoint"),
        ({"hour": 24}, 422, "invalid", "hour"),
        ({"plate": "!!"}, 422, "invalid", "plate"),
        ({"date": "2020-01-01"}, 422, "departed", "date"),
        ({"tier": "gold"}, 422, "invalid", "tier"),
    ]
    for change, status, code, field in cases:
        answer = cap.client.post(
            f"{API}/queue/tickets", json=base | change, headers=cap.h[FORWARDER]
        )
        error(answer, status, code, field)
    # A full hour: 30 trucks an hour at Khorgos (crossings.csv); the 31st gets the next free hours.
    for i in range(30):
        plate = {"plate": f"{i:03d} FUL 02", "hour": 20}
        assert (
            cap.client.post(
                f"{API}/queue/tickets", json=base | plate, headers=cap.h[FORWARDER]
            ).status_code
            == 201
        )
    full = cap.client.post(
        f"{API}/queue/tickets",
        json=base | {"plate": "999 FUL 02", "hour": 20},
        headers=cap.h[FORWARDER],
    )
    body = error(full, 409, "full", "hour")
    assert body["next_hours"][0].startswith(f"{tomorrow}T21:00")


def test_checkin_on_time_and_no_show_release(cap, db, tmp_path):
    now = datetime.now(UTC)
    body = {
        "checkpoint": "x-dostyk",
        "date": now.date().isoformat(),
        "hour": now.hour,
        "plate": "555 DOS 02",
        "driver": "C. Driver",
    }
    ticket = cap.client.post(f"{API}/queue/tickets", json=body, headers=cap.h[FORWARDER]).json()
    checked = cap.client.post(
        f"{API}/queue/checkin", json={"ticket": ticket["token"]}, headers=cap.h[CUSTOMS_AZ]
    )
    assert checked.status_code == 200, checked.text
    assert checked.json()["state"] == "checked_in"
    error(
        cap.client.post(
            f"{API}/queue/checkin", json={"ticket": ticket["token"]}, headers=cap.h[CUSTOMS_AZ]
        ),
        409,
        "conflict",
        "ticket",
    )
    other = cap.client.post(
        f"{API}/queue/tickets", json=body | {"plate": "556 DOS 02"}, headers=cap.h[FORWARDER]
    ).json()
    from corridor.store import capacity_queue

    with db.session() as s:
        assert capacity_queue.release_no_shows(s, 30, now + timedelta(hours=2)) == 1
    with db.session() as s:
        state = s.execute(
            text("SELECT state FROM queue_tickets WHERE id = :i"), {"i": other["id"]}
        ).scalar()
        booked = s.execute(text("SELECT booked FROM queue_slots")).scalar()
    assert (state, booked) == ("no_show", 1)
