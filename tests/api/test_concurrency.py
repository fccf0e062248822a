"""Bursts, locks and lost connections: exactly one winner, and 503 with Retry-After, never a 500.

The bursts use real threads against the real server (uvicorn on a loopback port) on SQLite and on
PostgreSQL: before the concurrency model, 50 parallel cancels of one shipment gave 15 answers
200 on SQLite, and 16 of 50 parallel bookings answered 500 "database is locked" (issue 9).
"""

from __future__ import annotations

import sqlite3
import threading
from collections import Counter
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import create_engine, select, text
from sqlalchemy.pool import NullPool

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.db import Database
from corridor.store.models import CustomsDeclaration, EpcisEvent, Shipment
from tests.api.conftest import ADMIN, FORWARDER

BURST = 50
#: A short route (one Caspian ferry) so that fifty bookings plan quickly.
SHORT = {
    "origin": "aktau_port",
    "destination": "baku",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 1,
    "best": "time",
}


def burst(count: int, request) -> list[httpx.Response]:
    """``count`` calls of ``request(client)`` from as many threads, released together."""
    start = threading.Barrier(count)

    def one(_: int) -> httpx.Response:
        # Plain HTTP to loopback: verify=False spares each client loading the CA bundle (~50 ms).
        with httpx.Client(timeout=60, verify=False) as client:
            start.wait()
            return request(client)

    with ThreadPoolExecutor(count) as pool:
        return list(pool.map(one, range(count)))


def book(client, base: str, headers: dict[str, str], reference: str = "B") -> dict:
    response = client.post(
        f"{base}/shipments", json={"reference": reference, "route": SHORT}, headers=headers
    )
    assert response.status_code == 201, response.text
    return response.json()


def test_fifty_parallel_cancels_give_exactly_one_winner(live):
    h = live.headers(FORWARDER)
    with httpx.Client(timeout=30) as client:
        shipment = book(client, live.base, h)
    answers = burst(
        BURST, lambda c: c.post(f"{live.base}/shipments/{shipment['id']}/cancel", headers=h)
    )
    assert Counter(r.status_code for r in answers) == {200: 1, 409: BURST - 1}
    assert {r.json()["error"]["code"] for r in answers if r.status_code == 409} == {"conflict"}
    with live.db.session() as s:
        row = s.get(Shipment, shipment["id"])
        assert row is not None
        assert row.status == "cancelled"


def test_fifty_parallel_bookings_all_succeed(live):
    h = live.headers(FORWARDER)
    answers = burst(
        BURST,
        lambda c: c.post(
            f"{live.base}/shipments", json={"reference": "BURST", "route": SHORT}, headers=h
        ),
    )
    assert Counter(r.status_code for r in answers) == {201: BURST}
    ids = {r.json()["id"] for r in answers}
    with live.db.session() as s:
        stored = set(s.scalars(select(Shipment.id).where(Shipment.reference == "BURST")))
    assert stored == ids
    assert len(ids) == BURST


def _declaration(shipment: dict, state: str) -> CustomsDeclaration:
    moment = datetime.now(UTC)
    return CustomsDeclaration(
        id=f"d-{shipment['id']}",
        lrn=f"LRN-{shipment['id']}",
        shipment_id=shipment["id"],
        holder_org=shipment["organisation_id"],
        state=state,
        position=0,
        arrived=False,
        checked=False,
        body={},
        offices={},
        countries=";".join(shipment["countries"]),
        guarantee_state="none",
        incidents=0,
        created_at=moment,
        updated_at=moment,
    )


def _event(shipment: dict, number: int, error_declared: bool) -> EpcisEvent:
    return EpcisEvent(
        event_id=f"ni:///sha-256;{shipment['id']}-{number}",
        event_type="ObjectEvent",
        event_time=datetime(2026, 3, 3, 9, tzinfo=UTC),
        biz_step="departing",
        disposition=None,
        place=None,
        node_id="aktau_port",
        shipment_id=shipment["id"],
        error_declared=error_declared,
        captured_by=shipment["organisation_id"],
        body={},
    )


def test_no_cancel_once_customs_released_or_the_goods_move(api):
    h = api.headers(FORWARDER)
    released, lodged, moving, corrected = (
        book(api.client, "/api/v1", h, ref) for ref in ("R", "L", "M", "C")
    )
    with api.db.session() as s:
        s.add(_declaration(released, "released"))
        s.add(_declaration(lodged, "lodged"))
        s.add(_event(moving, 1, error_declared=False))
        s.add(_event(corrected, 2, error_declared=True))  # withdrawn: the goods did not move

    def cancel(shipment: dict) -> httpx.Response:
        return api.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=h)

    refused = cancel(released)
    assert refused.status_code == 409
    assert "released" in refused.json()["error"]["reason"]
    refused = cancel(moving)
    assert refused.status_code == 409
    assert "under way" in refused.json()["error"]["reason"]
    assert cancel(lodged).status_code == 200  # lodged, not yet released: may still be cancelled
    assert cancel(corrected).status_code == 200
    with api.db.session() as s:
        states = {row.reference: row.status for row in s.scalars(select(Shipment))}
    assert states == {"R": "planned", "M": "planned", "L": "cancelled", "C": "cancelled"}


def test_the_admin_neither_books_nor_cancels(api):
    """docs/service.md: the coordination office reads all shipments and changes none."""
    fwd, admin = api.headers(FORWARDER), api.headers(ADMIN)
    shipment = book(api.client, "/api/v1", fwd)
    answer = api.client.post(
        "/api/v1/shipments", json={"reference": "A", "route": SHORT}, headers=admin
    )
    assert answer.status_code == 403
    answer = api.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=admin)
    assert answer.status_code == 403
    assert api.client.get(f"/api/v1/shipments/{shipment['id']}", headers=admin).status_code == 200
    assert (
        api.client.get(f"/api/v1/shipments/{shipment['id']}", headers=fwd).json()["status"]
        == "planned"
    )


def _unavailable(response: httpx.Response) -> None:
    assert response.status_code == 503, response.text
    assert response.headers["Retry-After"] == "1"
    assert "x-corridor-retryable" not in response.headers
    assert response.json()["error"]["code"] == "unavailable"


def test_a_held_write_lock_answers_503_with_retry_after_then_the_request_succeeds(
    seeded, dialect, tmp_path
):
    """A writer stuck behind a lock gets 503 + Retry-After (before: 500 'database is locked')."""
    db = Database(seeded.db.url, sqlite_busy_timeout_ms=50, pg_statement_timeout_ms=200)
    settings = Settings(var_dir=tmp_path, db_retries=1)
    with TestClient(create_app(settings, db)) as client:
        h = {
            "Authorization": "Bearer "
            + client.post(
                "/api/v1/auth/login",
                json={"email": FORWARDER, "password": seeded.passwords[FORWARDER]},
            ).json()["token"]
        }
        shipment = book(client, "/api/v1", h)
        holder = db.engine.connect()
        if dialect == "sqlite":
            raw = sqlite3.connect(seeded.db.url.split("///", 1)[1], isolation_level=None)
            raw.execute("BEGIN IMMEDIATE")
        else:
            holder.execute(
                text("SELECT id FROM shipments WHERE id = :id FOR UPDATE"), {"id": shipment["id"]}
            )
        try:
            _unavailable(client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=h))
        finally:
            if dialect == "sqlite":
                raw.execute("ROLLBACK")
                raw.close()
            holder.rollback()
            holder.close()
        answer = client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=h)
        assert answer.status_code == 200, answer.text
    db.dispose()


def test_no_free_turn_or_connection_answers_503_then_recovers(seeded, tmp_path):
    db = Database(seeded.db.url, pool_size=3, pool_timeout_s=0.05)
    settings = Settings(var_dir=tmp_path, threads=2, queue_timeout_s=0.05, db_retries=1)
    with TestClient(create_app(settings, db)) as client:
        token = client.post(
            "/api/v1/auth/login", json={"email": FORWARDER, "password": seeded.passwords[FORWARDER]}
        ).json()["token"]
        h = {"Authorization": f"Bearer {token}"}
        turns = client.app.state.turns
        for _ in range(settings.threads):  # every turn taken by requests still running
            client.portal.call(turns.acquire)
        _unavailable(client.get("/api/v1/shipments", headers=h))
        assert client.get("/api/v1/health").status_code == 200  # /health has its own threads
        for _ in range(settings.threads):
            client.portal.call(turns.release)
        held = [db.engine.connect() for _ in range(db.pool_size)]  # every connection in use
        _unavailable(client.get("/api/v1/shipments", headers=h))
        for connection in held:
            connection.close()
        assert client.get("/api/v1/shipments", headers=h).status_code == 200
    db.dispose()


def test_killed_postgresql_connections_are_replaced_unseen(live, dialect):
    if dialect != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    h = live.headers(FORWARDER)
    with httpx.Client(timeout=30) as client:
        shipment = book(client, live.base, h)
        outside = create_engine(live.db.url, poolclass=NullPool)
        with outside.connect() as conn:  # every pooled connection of the server, idle now
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        outside.dispose()
        assert killed >= 1
        assert client.get(f"{live.base}/shipments", headers=h).status_code == 200
        answer = client.post(f"{live.base}/shipments/{shipment['id']}/cancel", headers=h)
        assert answer.status_code == 200, answer.text


def test_a_capacity_hold_on_killed_connections_is_held_once_and_unseen(live, dialect):
    """The hold is one statement in autocommit on PostgreSQL: when the server's idle connections
    were terminated, the server says so at once and the request runs again on a fresh connection
    (201, unseen), and the hold is stored exactly once."""
    if dialect != "postgresql":
        pytest.skip("pg_terminate_backend is PostgreSQL's")
    h = live.headers(FORWARDER)
    with httpx.Client(timeout=30) as client:
        sea = client.get(
            f"{live.base}/capacity/sailings",
            params={"service": "ae-shanghai-rotterdam", "days": 45},
            headers=h,
        ).json()[0]
        body = {k: sea[k] for k in ("service", "from_node", "departure")}
        body |= {"cargo": "20GP", "items": 1}
        first = client.post(f"{live.base}/capacity/bookings", json=body, headers=h)
        assert first.status_code == 201, (
            first.text
        )  # the slot row exists: the next is one statement
        outside = create_engine(live.db.url, poolclass=NullPool)
        with outside.connect() as conn:
            killed = conn.execute(
                text(
                    "SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity "
                    "WHERE datname = current_database() AND pid <> pg_backend_pid()"
                )
            ).scalar_one()
        outside.dispose()
        assert killed >= 1
        second = client.post(f"{live.base}/capacity/bookings", json=body, headers=h)
        assert second.status_code == 201, second.text
        assert second.json()["id"] != first.json()["id"]
    with live.db.session() as s:
        held = s.execute(
            text("SELECT held, (SELECT count(*) FROM cap_bookings) FROM cap_slots WHERE id = :k"),
            {"k": sea["key"]},
        ).one()
    assert tuple(held) == (2, 2)
