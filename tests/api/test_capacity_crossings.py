"""Rail border crossings hold train paths: N free paths and 50 parallel bookers give exactly N
holds (SQLite and PostgreSQL); a full crossing refuses with 409 naming it and the next day with
room; cancelling or expiry frees the path; the dispatch board shows the crossing-day."""

from __future__ import annotations

from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta

from sqlalchemy import func, select

from corridor.store import capacity as store
from corridor.store.capacity_tables import CapBooking, CapEvent, CapSlot
from corridor.store.models import Shipment
from tests.api.conftest import FORWARDER, OTHER
from tests.api.test_capacity_api import API, _Logins

#: Beyuk Kesik - Gardabani (AZ-GE): 10 trains a day in data/capacity/crossings.csv.
CROSSING = "x-beyuk-kesik"
TRAINS_PER_DAY = 10


def _route(ready: datetime) -> dict:
    # Baku - Tbilisi by rail: no managed service on the way, one rail border crossing.
    return {"origin": "baku", "destination": "tbilisi", "ready": ready.isoformat(), "best": "time"}


def _book(api, who: str, ready: datetime, reference: str):
    return api.client.post(
        f"{API}/capacity/itineraries",
        json={"reference": reference, "route": _route(ready)},
        headers=api.h[who],
    )


def test_n_free_train_paths_and_50_parallel_bookers_give_exactly_n_holds(api, db):
    api.h = _Logins(api)
    ready = (datetime.now(UTC) + timedelta(days=2)).replace(minute=0, second=0, microsecond=0)
    first = _book(api, OTHER, ready, "X-0")
    assert first.status_code == 201, first.text
    paths = [b for b in first.json()["bookings"] if b["unit"] == "trains"]
    assert [(b["service"], b["units"], b["state"]) for b in paths] == [(CROSSING, 1, "held")]
    day = datetime.fromisoformat(paths[0]["departure"])
    assert (day.hour, day.minute) == (0, 0)  # a crossing's train paths are counted per day
    free = TRAINS_PER_DAY - 1

    api.h[FORWARDER]  # log in once, before the crowd
    with ThreadPoolExecutor(max_workers=50) as pool:
        answers = list(pool.map(lambda i: _book(api, FORWARDER, ready, f"X-{i + 1}"), range(50)))
    statuses = Counter(a.status_code for a in answers)
    assert statuses == {201: free, 409: 50 - free}, statuses
    next_day = (day + timedelta(days=1)).date().isoformat()
    for answer in answers:
        if answer.status_code == 409:
            body = answer.json()["error"]
            assert (body["code"], body["field"], body["crossing"]) == ("full", "crossing", CROSSING)
            assert "Beyuk Kesik - Gardabani" in body["reason"]
            assert f"the next day with room is {next_day}" in body["reason"]
            assert body["next_days"][0]["day"][:10] == next_day
            assert body["next_days"][0]["free"] == TRAINS_PER_DAY
    key = paths[0]["id"]
    with db.session() as s:
        slot = s.scalar(select(CapSlot).where(CapSlot.kind == "crossing"))
        assert (slot.service, slot.capacity, slot.held, slot.confirmed) == (
            CROSSING,
            TRAINS_PER_DAY,
            TRAINS_PER_DAY,
            0,
        )
        assert (
            s.scalar(
                select(func.count()).where(
                    CapBooking.slot_id == slot.id, CapBooking.state == "held"
                )
            )
            == TRAINS_PER_DAY
        )
        # every hold told the board the new counters (one event per hold, 1 to 10 paths held)
        bodies = s.scalars(
            select(CapEvent.body).where(CapEvent.slot_id == slot.id, CapEvent.kind == "held")
        ).all()
        assert sorted(b["held"] for b in bodies) == list(range(1, TRAINS_PER_DAY + 1))
        # all or nothing: a refused booking left no shipment behind
        assert s.scalar(select(func.count()).select_from(Shipment)) == TRAINS_PER_DAY

    # The dispatch board shows the crossing-day full.
    board = api.client.get(f"{API}/capacity/board", headers=api.h[FORWARDER]).json()
    line = next(x for x in board["lines"] if x["key"] == slot.id)
    assert (line["kind"], line["unit"], line["held"], line["free"]) == ("crossing", "trains", 10, 0)
    assert any(row.startswith(f"{CROSSING} (rail border)") for row in board["heat_map"]["rows"])

    # Cancelling one hold frees its path: the next booker gets it.
    cancelled = api.client.post(f"{API}/capacity/bookings/{key}/cancel", headers=api.h[OTHER])
    assert cancelled.status_code == 200, cancelled.text
    again = _book(api, FORWARDER, ready, "X-again")
    assert again.status_code == 201, again.text
    assert _book(api, FORWARDER, ready, "X-late").status_code == 409

    # Holds that lapse free their paths (the upkeep's sweep, here run at a later clock).
    with db.session(write=True) as s, store.committing(s):
        ctx = store.context_for(api.client.app.state.network)
        expired = store.sweep(s, ctx, now=datetime.now(UTC) + timedelta(days=1))
    assert expired >= TRAINS_PER_DAY
    with db.session() as s:
        assert s.scalar(select(CapSlot.held).where(CapSlot.id == slot.id)) == 0
