"""A sailing its carrier reported departed before its scheduled time takes no more holds, on SQLite
and PostgreSQL: a late booker gets 422 ``departed`` naming the slot and the next sailings with
room, 50 bookers racing the departure either committed before it or were refused, and the
hold-expiry sweep leaves the departed sailing's bookings as they were."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from urllib.parse import quote

from sqlalchemy import func, select

from corridor.store import capacity as store
from corridor.store.capacity_moments_tables import CapDeparture
from corridor.store.capacity_tables import CapBooking, CapSlot
from tests.api.conftest import FORWARDER, OTHER
from tests.api.test_capacity_api import API, CARRIER, _Logins, book, error, next_ferry


def _depart(api, key: str):
    return api.client.post(
        f"{API}/capacity/sailings/{quote(key, safe='')}/depart", headers=api.h[CARRIER]
    )


def _counters(db, key: str) -> tuple[int, int, int]:
    with db.session() as s:
        row = s.execute(
            select(CapSlot.capacity, CapSlot.held, CapSlot.confirmed).where(CapSlot.id == key)
        ).one()
    return int(row[0]), int(row[1]), int(row[2])


def test_a_sailing_that_left_early_refuses_a_hold_and_offers_the_next(api, db):
    api.h = _Logins(api)
    sailing = next_ferry(api)
    assert datetime.fromisoformat(sailing["departure"]) > datetime.now(UTC)  # not gone by timetable
    assert book(api, OTHER, sailing, 3).status_code == 201
    departed = _depart(api, sailing["key"])
    assert departed.status_code == 200, departed.text
    before = _counters(db, sailing["key"])
    assert before == (52, 3, 0)  # services.csv: 52 wagons; the 3 held before it left

    late = error(book(api, FORWARDER, sailing, 2), 422, "departed", "departure")
    assert sailing["key"] in late["reason"]
    assert late["next_sailings"], late
    for alt in late["next_sailings"]:
        assert alt["departure"] > sailing["departure"]
        assert alt["free"] >= 2
    # Asking to wait for room changes nothing: a sailing that left has no waitlist.
    error(book(api, FORWARDER, sailing, 52, waitlist=True), 422, "departed", "departure")

    assert _counters(db, sailing["key"]) == before
    with db.session() as s:
        on_it = s.scalar(select(func.count()).where(CapBooking.slot_id == sailing["key"]))
    assert on_it == 1


def test_50_holds_racing_one_departure_committed_before_it_or_were_refused(api, db):
    api.h = _Logins(api)
    sailing = next_ferry(api)
    assert book(api, OTHER, sailing, 1).status_code == 201  # the slot row exists: it can depart
    api.h[FORWARDER]  # logged in before the race

    def one(i: int):
        if i == 25:
            return "depart", _depart(api, sailing["key"])
        return "hold", book(api, FORWARDER, sailing, 1)

    with ThreadPoolExecutor(51) as pool:
        answers = list(pool.map(one, range(51)))
    statuses = Counter((what, a.status_code) for what, a in answers)
    assert set(statuses) <= {("depart", 200), ("hold", 201), ("hold", 422)}, statuses
    assert statuses[("depart", 200)] == 1
    for what, a in answers:
        if what == "hold" and a.status_code == 422:
            error(a, 422, "departed", "departure")
    won = {a.json()["id"] for what, a in answers if what == "hold" and a.status_code == 201}

    with db.session() as s:
        left = s.scalar(select(CapSlot.departed_at).where(CapSlot.id == sailing["key"]))
        recorded = s.scalar(
            select(CapDeparture.departed_at).where(CapDeparture.slot_id == sailing["key"])
        )
        rows = s.execute(
            select(CapBooking.id, CapBooking.units, CapBooking.state, CapBooking.created_at).where(
                CapBooking.slot_id == sailing["key"]
            )
        ).all()
    assert left is not None
    assert left == recorded
    ids = {r[0] for r in rows}
    assert won <= ids  # every hold answered 201 is stored
    assert len(rows) == len(won) + 1  # and nothing else was (the 1 held before the race)
    assert all(r[3] <= left for r in rows), (left, sorted(r[3] for r in rows)[-3:])
    assert all(r[2] == "held" for r in rows)
    assert _counters(db, sailing["key"]) == (52, sum(r[1] for r in rows), 0)


def test_the_sweep_leaves_a_departed_sailing_alone(api, db):
    api.h = _Logins(api)
    gone, open_ = next_ferry(api), next_ferry(api, skip=1)
    for sailing in (gone, open_):
        assert book(api, FORWARDER, sailing, 50).status_code == 201
        waiting = book(api, OTHER, sailing, 4, waitlist=True)
        assert waiting.status_code == 201
        assert waiting.json()["state"] == "waitlisted"
    assert _depart(api, gone["key"]).status_code == 200

    # A day later every hold has lapsed; the upkeep's sweep runs.
    with db.session(write=True) as s, store.committing(s):
        ctx = store.context_for(api.client.app.state.network)
        expired = store.sweep(s, ctx, now=datetime.now(UTC) + timedelta(days=1))
    assert expired == 1  # the open sailing's hold only

    def states(key: str) -> list[tuple[int, str]]:
        with db.session() as s:
            return sorted(
                s.execute(
                    select(CapBooking.units, CapBooking.state).where(CapBooking.slot_id == key)
                ).all()
            )

    assert states(gone["key"]) == [(4, "waitlisted"), (50, "held")]
    assert _counters(db, gone["key"]) == (52, 50, 0)
    # The open sailing, as a control: its hold expired and the waitlisted booking moved in.
    assert states(open_["key"]) == [(4, "held"), (50, "expired")]
    assert _counters(db, open_["key"]) == (52, 4, 0)
