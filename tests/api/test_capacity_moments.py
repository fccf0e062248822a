"""Ferry loading and departure as carrier actions, and capacity moments as EPCIS events, on SQLite
and PostgreSQL: only the line's carrier acts, a bad state is a 409, 50 at once give one winner,
and one query tells a container's whole story in time order."""

from __future__ import annotations

import copy
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from corridor.routing import Itinerary
from corridor.tracking.generator import document, events_for
from tests.api.conftest import FORWARDER
from tests.api.test_capacity_api import (
    API,
    CARRIER,
    _dostyk_to_tbilisi,
    _Logins,
    book,
    error,
    next_ferry,
)
from tests.api.test_customs_api import BODY, act, declare, flow  # noqa: F401  (flow: a fixture)

RAIL = "rail.ktz@demo.corridor"


def _slot(path: str) -> str:
    return quote(path, safe="")


def test_loading_and_departure_belong_to_the_line_and_have_one_winner(api):
    api.h = _Logins(api)
    sailing = next_ferry(api)
    held = book(api, FORWARDER, sailing, 2)
    assert held.status_code == 201, held.text
    booking = held.json()["id"]
    slot = _slot(sailing["key"])
    load = f"{API}/capacity/bookings/{booking}/load"
    # A held booking is not on board yet; the forwarder and another carrier may not load it.
    error(api.client.post(load, headers=api.h[CARRIER]), 409, "conflict", "state")
    error(api.client.post(load, headers=api.h[FORWARDER]), 403, "forbidden", "slot")
    error(api.client.post(load, headers=api.h[RAIL]), 404, "not_found", "booking_id")
    confirmed = api.client.post(
        f"{API}/capacity/bookings/{booking}/confirm", headers=api.h[CARRIER]
    )
    assert confirmed.status_code == 200, confirmed.text
    with ThreadPoolExecutor(50) as pool:
        answers = list(pool.map(lambda _: api.client.post(load, headers=api.h[CARRIER]), range(50)))
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 49}, {a.text for a in answers}
    winner = next(a.json() for a in answers if a.status_code == 200)
    assert (winner["booking_id"], winner["slot"], winner["containers"]) == (
        booking,
        sailing["key"],
        [],  # a booking without a shipment names no container
    )
    depart = f"{API}/capacity/sailings/{slot}/depart"
    error(api.client.post(depart, headers=api.h[RAIL]), 403, "forbidden", "slot")
    error(
        api.client.post(f"{API}/capacity/sailings/nope/depart", headers=api.h[CARRIER]),
        404,
        "not_found",
        "slot_id",
    )
    with ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(lambda _: api.client.post(depart, headers=api.h[CARRIER]), range(50))
        )
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 49}, {a.text for a in answers}
    done = next(a.json() for a in answers if a.status_code == 200)
    assert (done["loaded"], done["left_behind"]) == (1, 0)
    # Nothing more goes on board a ferry that has left, not even a new hold (it left early).
    late = error(book(api, FORWARDER, sailing, 1), 422, "departed", "departure")
    assert sailing["key"] in late["reason"]


def _stamp(when: datetime) -> str:
    return when.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.000Z")


def test_one_query_tells_a_containers_whole_story_in_time_order(flow):  # noqa: F811
    api, fwd, officers, _ = flow
    api.h = _Logins(api)
    carrier = api.h[CARRIER]
    now = datetime.now(UTC)
    ready = (now + timedelta(days=1)).replace(minute=0, second=0, microsecond=0)
    booked = api.client.post(
        f"{API}/capacity/itineraries",
        json={"reference": "STORY-1", "route": _dostyk_to_tbilisi(ready)},
        headers=fwd,
    )
    assert booked.status_code == 201, booked.text
    shipment = booked.json()["shipment"]
    sea = next(b for b in booked.json()["bookings"] if b["from_node"] == "aktau_port")
    # 1. The railway reports the train leaving Dostyk and reaching Aktau (two days and one ago).
    plan = Itinerary.model_validate(shipment["itinerary"])
    rail = copy.deepcopy(events_for(plan, shipment["id"], ["CSQU3054383"], noise_h=0)[:2])
    for event, days in zip(rail, (2, 1), strict=True):
        event["eventTime"] = _stamp(now - timedelta(days=days))
    captured = api.client.post(
        f"{API}/epcis/capture", json=document(rail, now - timedelta(days=2)), headers=api.h[RAIL]
    )
    assert captured.status_code == 202, captured.text
    assert captured.json()["result"]["captured"] == 2
    # 2. Customs at departure (Kazakhstan) releases the transit declaration.
    declaration = declare(api, fwd, shipment, {**BODY, "lrn": "STORY0001"})
    assert declaration.status_code == 201, declaration.text
    decl = declaration.json()
    office = decl["offices"][0]["id"]
    for action in ("accept", "release"):
        done = act(api, officers["KZ"], decl["id"], action, office)
        assert done.status_code == 200, done.text
    # 3. and 4. The ferry line confirms the sea leg, loads it, and the sailing departs.
    assert (
        api.client.post(f"{API}/capacity/bookings/{sea['id']}/confirm", headers=carrier).status_code
        == 200
    )
    loaded = api.client.post(f"{API}/capacity/bookings/{sea['id']}/load", headers=carrier)
    assert loaded.status_code == 200, loaded.text
    assert loaded.json()["containers"] == ["CSQU3054383", "MSKU9070323"]  # from the declaration
    slot = loaded.json()["slot"]
    departed = api.client.post(f"{API}/capacity/sailings/{_slot(slot)}/depart", headers=carrier)
    assert departed.status_code == 200, departed.text
    # 5. A truck with the transit declaration checks in at a road checkpoint's e-queue.
    ticket = api.client.post(
        f"{API}/queue/tickets",
        json={
            "checkpoint": "x-khorgos",
            "date": datetime.now(UTC).date().isoformat(),
            "hour": datetime.now(UTC).hour,
            "plate": "777 STR 02",
            "driver": "A. Driver",
            "transit_declaration": "STORY0001",
            "tier": "standard",
        },
        headers=fwd,
    )
    assert ticket.status_code == 201, ticket.text
    checked = api.client.post(
        f"{API}/queue/checkin", json={"ticket": ticket.json()["token"]}, headers=officers["KZ"]
    )
    assert checked.status_code == 200, checked.text
    # One query: the forwarder sees all of it, in time order.
    for query in (
        f"EQ_shipment={shipment['id']}",
        f"MATCH_epc={quote('urn:epc:id:bic:CSQU3054383', safe='')}",
    ):
        answer = api.client.get(
            f"{API}/epcis/events?{query}&orderBy=eventTime&orderDirection=ASC", headers=fwd
        )
        assert answer.status_code == 200, answer.text
        story = answer.json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
        steps = [(e["bizStep"], e["bizLocation"]["id"].rsplit(":", 1)[1]) for e in story]
        assert steps == [
            ("departing", "dostyk"),
            (rail[1]["bizStep"], rail[1]["bizLocation"]["id"].rsplit(":", 1)[1]),
            ("inspecting", steps[2][1]),
            ("loading", "aktau_port"),
            ("departing", "aktau_port"),
            ("arriving", "altynkol"),
        ], steps
        times = [e["eventTime"] for e in story]
        assert times == sorted(times)
        ferry = story[3:5]
        for event in ferry:
            links = {t["type"]: t["bizTransaction"] for t in event["bizTransactionList"]}
            assert links["urn:corridor:btt:capacity_booking"] == f"urn:corridor:booking:{sea['id']}"
            assert links["bol"] == f"urn:corridor:shipment:{shipment['id']}"
            assert event["epcList"] == [
                "urn:epc:id:bic:CSQU3054383",
                "urn:epc:id:bic:MSKU9070323",
            ]
        assert (story[3]["disposition"], story[4]["disposition"]) == ("in_progress", "in_transit")
        gate = {t["type"]: t["bizTransaction"] for t in story[5]["bizTransactionList"]}
        assert gate["urn:corridor:btt:capacity_booking"].endswith(ticket.json()["id"])
