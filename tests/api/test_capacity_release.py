"""What is on board stays on board, and a cancelled shipment gives its capacity back, on SQLite and
PostgreSQL: a loaded booking is not cancelled, declined or moved (the carrier may unload it before
the sailing leaves); a departed sailing's bookings no longer change; cancelling a shipment
releases every hold and train path of its itinerary at once, exactly once under 50 parallel
cancels, and a cancel racing a loading never leaves a booking both cancelled and on board."""

from __future__ import annotations

from collections import Counter, defaultdict
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

import pytest
from sqlalchemy import select

from corridor.store.capacity_moments_tables import CapLoading
from corridor.store.capacity_tables import CapBooking, CapEvent, CapSlot
from tests.api.conftest import FORWARDER, OTHER
from tests.api.test_capacity_api import (
    API,
    CARRIER,
    _dostyk_to_tbilisi,
    _Logins,
    book,
    error,
    next_ferry,
    sailings,
)


@pytest.fixture
def cap(api):
    api.h = _Logins(api)
    return api


def _counters(db, slot_ids) -> dict[str, tuple[int, int]]:
    with db.session() as s:
        rows = s.scalars(select(CapSlot).where(CapSlot.id.in_(list(slot_ids))))
        return {r.id: (r.held, r.confirmed) for r in rows}


def _consistent(db) -> None:
    """Every slot's counters equal the units of its live bookings (nothing freed twice)."""
    with db.session() as s:
        live: dict[str, list[int]] = defaultdict(lambda: [0, 0])
        for b in s.scalars(select(CapBooking)):
            if b.state in ("held", "confirmed"):
                live[b.slot_id][b.state == "confirmed"] += b.units
        for slot in s.scalars(select(CapSlot)):
            assert [slot.held, slot.confirmed] == live[slot.id], slot.id


def _states(db, booking_ids) -> dict[str, str]:
    with db.session() as s:
        rows = s.scalars(select(CapBooking).where(CapBooking.id.in_(list(booking_ids))))
        return {r.id: r.state for r in rows}


def _loaded(db, booking_id: str) -> bool:
    with db.session() as s:
        return s.get(CapLoading, booking_id) is not None


def _itinerary(api, reference: str, days: int = 1):
    ready = (datetime.now(UTC) + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    booked = api.client.post(
        f"{API}/capacity/itineraries",
        json={"reference": reference, "route": _dostyk_to_tbilisi(ready)},
        headers=api.h[FORWARDER],
    )
    assert booked.status_code == 201, booked.text
    return booked.json()


def _sea(booked):
    return next(b for b in booked["bookings"] if b["from_node"] == "aktau_port")


def _slot_of(sailing_list, booking):
    return next(
        s
        for s in sailing_list
        if s["service"] == booking["service"]
        and datetime.fromisoformat(s["departure"]) == datetime.fromisoformat(booking["departure"])
    )


def _post(api, who, path, body=None):
    return api.client.post(f"{API}{path}", json=body, headers=api.h[who])


def test_cancelling_a_shipment_releases_every_hold_path_and_promotes_the_waitlist(cap, db):
    booked = _itinerary(cap, "REL-1")
    shipment = booked["shipment"]["id"]
    mine = {b["id"]: b for b in booked["bookings"]}
    sea = _sea(booked)
    sea_slot = _slot_of(sailings(cap, service=sea["service"], from_node="aktau_port", days=30), sea)
    capacity = sea_slot["capacity"]
    assert sea_slot["held"] == 4  # two 40-ft boxes = 4 TEU
    # Another forwarder fills the sailing (40-ft boxes, a 20-ft one for an odd TEU), then waits
    # for one more 40-ft box (2 TEU).
    filler = book(cap, OTHER, sea_slot, (capacity - 4) // 2, cargo="40GP")
    assert filler.status_code == 201, filler.text
    if (capacity - 4) % 2:
        assert book(cap, OTHER, sea_slot, 1, cargo="20GP").status_code == 201
    waiting = book(cap, OTHER, sea_slot, 1, cargo="40GP", waitlist=True)
    assert waiting.json()["state"] == "waitlisted", waiting.text
    # The ferry line confirms the shipment's sea leg.
    assert _post(cap, CARRIER, f"/capacity/bookings/{sea['id']}/confirm").status_code == 200
    with cap.db.session() as s:
        keys = {s.get(CapBooking, i).slot_id: i for i in mine}  # type: ignore[union-attr]
        seq = max(s.scalars(select(CapEvent.seq)))
    before = _counters(db, keys)
    sea_key = next(k for k, i in keys.items() if i == sea["id"])
    # Hand-worked: the sea leg 4 TEU confirmed, the filler's C-4 held; every other leg holds
    # 4 TEU and each border crossing one train path of this shipment alone.
    assert before[sea_key] == (capacity - 4, 4)
    for key, booking_id in keys.items():
        if key != sea_key:
            assert before[key] == (mine[booking_id]["units"], 0), key
    cancelled = _post(cap, FORWARDER, f"/shipments/{shipment}/cancel")
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    after = _counters(db, keys)
    # The 4 confirmed TEU free, the waitlisted 2 TEU promoted into them: C-4+2 held.
    assert after[sea_key] == (capacity - 4 + 2, 0)
    for key in keys:
        if key != sea_key:
            assert after[key] == (0, 0), key
    assert set(_states(db, mine).values()) == {"cancelled"}
    promoted = cap.client.get(
        f"{API}/capacity/bookings/{waiting.json()['id']}", headers=cap.h[OTHER]
    ).json()
    assert promoted["state"] == "held"
    assert promoted["expires_at"] is not None
    with cap.db.session() as s:
        board = [
            e.slot_id
            for e in s.scalars(select(CapEvent).where(CapEvent.seq > seq))
            if e.kind == "cancelled"
        ]
    assert sorted(board) == sorted(keys)  # one board event per freed slot
    _consistent(db)
    again = _post(cap, FORWARDER, f"/shipments/{shipment}/cancel")
    error(again, 409, "conflict", "status")
    assert _counters(db, keys) == after


def test_50_parallel_cancels_of_one_shipment_free_its_capacity_once(cap, db):
    booked = _itinerary(cap, "REL-50")
    shipment = booked["shipment"]["id"]
    sea = _sea(booked)
    sea_slot = _slot_of(sailings(cap, service=sea["service"], from_node="aktau_port", days=30), sea)
    assert book(cap, OTHER, sea_slot, 3, cargo="40GP").status_code == 201  # stays: 6 TEU
    with ThreadPoolExecutor(50) as pool:
        answers = list(
            pool.map(lambda _: _post(cap, FORWARDER, f"/shipments/{shipment}/cancel"), range(50))
        )
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 49}, {a.text for a in answers}
    for a in answers:
        if a.status_code == 409:
            error(a, 409, "conflict", "status")
    assert set(_states(db, [b["id"] for b in booked["bookings"]]).values()) == {"cancelled"}
    with cap.db.session() as s:
        sea_row = s.get(CapSlot, s.get(CapBooking, sea["id"]).slot_id)  # type: ignore[union-attr]
        assert (sea_row.held, sea_row.confirmed) == (6, 0)  # type: ignore[union-attr]
    _consistent(db)


def test_a_loaded_booking_stays_on_board_and_a_departed_sailing_is_final(cap, db):
    sailing = next_ferry(cap)
    slot = quote(sailing["key"], safe="")
    booking = book(cap, FORWARDER, sailing, 2).json()["id"]
    held = book(cap, FORWARDER, sailing, 1).json()["id"]  # never confirmed
    url = f"/capacity/bookings/{booking}"
    assert _post(cap, CARRIER, f"{url}/confirm").status_code == 200
    error(_post(cap, CARRIER, f"{url}/unload"), 409, "conflict", "state")  # not on board yet
    assert _post(cap, CARRIER, f"{url}/load").status_code == 200
    target = next_ferry(cap, skip=1)["departure"]
    for who, action, body in (
        (FORWARDER, "cancel", None),
        (CARRIER, "decline", None),
        (CARRIER, "move", {"departure": target}),
    ):
        refused = error(_post(cap, who, f"{url}/{action}", body), 409, "conflict", "state")
        assert "loaded" in refused["reason"], refused
    assert _counters(db, [sailing["key"]]) == {sailing["key"]: (1, 2)}
    # The carrier may take it off before the sailing leaves; then it is an ordinary booking.
    unloaded = _post(cap, CARRIER, f"{url}/unload")
    assert unloaded.status_code == 200, unloaded.text
    assert not _loaded(db, booking)
    error(_post(cap, CARRIER, f"{url}/unload"), 409, "conflict", "state")
    assert _post(cap, CARRIER, f"{url}/load").status_code == 200
    assert _post(cap, CARRIER, f"/capacity/sailings/{slot}/depart").status_code == 200
    # Departed: nothing changes any booking of the sailing any more.
    for who, path, body in (
        (CARRIER, f"{url}/unload", None),
        (FORWARDER, f"{url}/cancel", None),
        (CARRIER, f"{url}/decline", None),
        (CARRIER, f"/capacity/bookings/{held}/confirm", None),
        (FORWARDER, f"/capacity/bookings/{held}/cancel", None),
        (CARRIER, f"/capacity/bookings/{held}/move", {"departure": target}),
    ):
        answer = _post(cap, who, path, body)
        assert answer.status_code == 409, (path, answer.text)
        assert answer.json()["error"]["code"] == "conflict", answer.text
        assert "departed" in answer.json()["error"]["reason"], answer.text
    assert _states(db, [booking, held]) == {booking: "confirmed", held: "held"}
    assert _counters(db, [sailing["key"]]) == {sailing["key"]: (1, 2)}
    _consistent(db)


def test_a_shipment_with_a_leg_loaded_or_departed_is_not_cancelled(cap, db):
    loaded = _itinerary(cap, "REL-LOAD")
    sea = _sea(loaded)
    assert _post(cap, CARRIER, f"/capacity/bookings/{sea['id']}/confirm").status_code == 200
    assert _post(cap, CARRIER, f"/capacity/bookings/{sea['id']}/load").status_code == 200
    departed = _itinerary(cap, "REL-DEP", days=5)
    ids = [b["id"] for b in loaded["bookings"] + departed["bookings"]]
    states = _states(db, ids)
    with cap.db.session() as s:
        slot_ids = {s.get(CapBooking, i).slot_id for i in ids}  # type: ignore[union-attr]
    counters = _counters(db, slot_ids)
    refused = error(
        _post(cap, FORWARDER, f"/shipments/{loaded['shipment']['id']}/cancel"),
        409,
        "conflict",
        "status",
    )
    assert refused["reason"]
    # The second shipment's sea leg is only held, but its ferry has left: it is history.
    dep_sea = _sea(departed)
    with cap.db.session() as s:
        dep_slot = s.get(CapBooking, dep_sea["id"]).slot_id  # type: ignore[union-attr]
    left = _post(cap, CARRIER, f"/capacity/sailings/{quote(dep_slot, safe='')}/depart")
    assert left.status_code == 200, left.text
    refused = error(
        _post(cap, FORWARDER, f"/shipments/{departed['shipment']['id']}/cancel"),
        409,
        "conflict",
        "status",
    )
    assert "departed" in refused["reason"], refused
    # Nothing was released, nothing half-written.
    assert _states(db, ids) == states
    assert _counters(db, slot_ids) == counters
    for booked in (loaded, departed):
        got = cap.client.get(
            f"{API}/shipments/{booked['shipment']['id']}", headers=cap.h[FORWARDER]
        )
        assert got.json()["status"] == "planned"
    _consistent(db)


def _race(api, moves):
    with ThreadPoolExecutor(50) as pool:
        return list(pool.map(lambda m: _post(api, m[0], m[1]), moves))


def test_cancel_racing_a_loading_has_one_winner_never_both(cap, db):
    # A booking cancelled by its forwarder while its ferry line loads it: 25 of each at once.
    sailing = next_ferry(cap)
    for _round in range(2):
        booking = book(cap, FORWARDER, sailing, 1).json()["id"]
        assert _post(cap, CARRIER, f"/capacity/bookings/{booking}/confirm").status_code == 200
        url = f"/capacity/bookings/{booking}"
        answers = _race(cap, [(FORWARDER, f"{url}/cancel"), (CARRIER, f"{url}/load")] * 25)
        assert Counter(a.status_code for a in answers) == {200: 1, 409: 49}, {
            a.text for a in answers
        }
        state = _states(db, [booking])[booking]
        assert (state, _loaded(db, booking)) in {("confirmed", True), ("cancelled", False)}
    # A shipment cancelled while its sea leg is loaded.
    booked = _itinerary(cap, "REL-RACE")
    sea = _sea(booked)
    assert _post(cap, CARRIER, f"/capacity/bookings/{sea['id']}/confirm").status_code == 200
    shipment = f"/shipments/{booked['shipment']['id']}/cancel"
    answers = _race(
        cap, [(FORWARDER, shipment), (CARRIER, f"/capacity/bookings/{sea['id']}/load")] * 25
    )
    assert Counter(a.status_code for a in answers) == {200: 1, 409: 49}, {a.text for a in answers}
    status = cap.client.get(
        f"{API}/shipments/{booked['shipment']['id']}", headers=cap.h[FORWARDER]
    ).json()["status"]
    state = _states(db, [sea["id"]])[sea["id"]]
    assert (status, state, _loaded(db, sea["id"])) in {
        ("planned", "confirmed", True),
        ("cancelled", "cancelled", False),
    }
    _consistent(db)
