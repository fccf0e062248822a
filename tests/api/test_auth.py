"""Login protection, tokens and users' standing (issue 9, items 5 and 9)."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import argon2
import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from sqlalchemy import delete, select, text

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store import accounts
from corridor.store.db import Database
from corridor.store.models import ApiToken, User

FORWARDER = "forwarder@demo.corridor"
OTHER = "other-forwarder@demo.corridor"
ADMIN = "admin@demo.corridor"
CUSTOMS_AZ = "customs.az@demo.corridor"


@pytest.fixture(autouse=True)
def cheap_hashes(monkeypatch):
    """Argon2id at the lowest cost: these tests are about the rules around hashing, not its cost."""
    monkeypatch.setattr(accounts, "_hasher", argon2.PasswordHasher(1, 8, 1))
    monkeypatch.setattr(accounts, "_dummy_hash", None)


@dataclass
class Service:
    app: FastAPI
    client: TestClient
    db: Database
    passwords: dict[str, str]

    def login(self, email: str, password: str | None = None, **kw: Any):
        return self.client.post(
            "/api/v1/auth/login",
            json={"email": email, "password": password or self.passwords[email]},
            **kw,
        )

    def headers(self, email: str) -> dict[str, str]:
        """A token issued directly (no login, so that no login counter moves)."""
        with self.db.session() as s:
            user = s.scalar(select(User).where(User.email == email))
            assert user is not None
            token = accounts.issue_token(s, user.id, "test", None)
        return {"Authorization": f"Bearer {token}"}


def service(seeded, tmp_path, **settings: Any):
    """An app over the seeded database (tests/conftest.py), with ``settings`` changed."""
    app = create_app(Settings(var_dir=tmp_path / "var", **settings), seeded.db)
    return app, seeded.passwords


@pytest.fixture
def svc(seeded, tmp_path):
    app, passwords = service(seeded, tmp_path, login_max_per_account=3, login_max_per_address=8)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Service(app, client, seeded.db, passwords)


# -- item 5: login is protected -------------------------------------------------------------


def test_wrong_passwords_lock_the_account_even_for_the_right_one(svc):
    for _ in range(3):
        assert svc.login(FORWARDER, "wrong password!").status_code == 401
    locked = svc.login(FORWARDER)  # the right password, after the limit: refused all the same
    assert locked.status_code == 429
    assert locked.json()["error"]["code"] == "rate_limited"
    assert locked.json()["error"]["field"] == "email"
    assert 1 <= int(locked.headers["Retry-After"]) <= 900
    # another account from the same address is not locked out by it
    assert svc.login(OTHER).status_code == 200


def test_a_success_forgets_the_failures_of_the_account(svc):
    for _ in range(2):
        assert svc.login(FORWARDER, "wrong password!").status_code == 401
    assert svc.login(FORWARDER).status_code == 200
    for _ in range(3):
        assert svc.login(FORWARDER, "wrong password!").status_code == 401
    assert svc.login(FORWARDER, "wrong password!").status_code == 429


def test_one_address_trying_many_accounts_is_limited(svc):
    answers = [svc.login(f"nobody{i}@example.org", "whatever12345").status_code for i in range(8)]
    assert answers == [401] * 8
    refused = svc.login("nobody-else@example.org", "whatever12345")
    assert refused.status_code == 429
    assert refused.json()["error"]["field"] == "address"
    assert "Retry-After" in refused.headers


def test_counters_are_shared_by_workers_through_the_database(svc, tmp_path):
    """A second app over the same database stands for a second worker process."""
    other = create_app(Settings(var_dir=tmp_path / "var2", login_max_per_account=3), svc.db)
    with TestClient(other, raise_server_exceptions=False) as second:
        for client in (svc.client, second, svc.client):
            response = client.post(
                "/api/v1/auth/login", json={"email": ADMIN, "password": "wrong password!"}
            )
            assert response.status_code == 401
        response = second.post(
            "/api/v1/auth/login", json={"email": ADMIN, "password": svc.passwords[ADMIN]}
        )
    assert response.status_code == 429


def test_concurrent_wrong_logins_are_each_counted_once(svc):
    """20 attempts at once against a limit of 3: exactly 3 are checked, 17 refused unhashed."""
    with ThreadPoolExecutor(10) as pool:
        codes = list(
            pool.map(lambda _: svc.login(CUSTOMS_AZ, "wrong password!").status_code, range(20))
        )
    assert sorted(codes) == [401] * 3 + [429] * 17


def test_unknown_addresses_cost_the_same_hash_as_known_ones(svc):
    """Timing cannot tell addresses apart when the unknown ones verify against a hash of the
    same algorithm and cost as the real ones; the answer is the same byte for byte."""
    with svc.db.session() as s:
        real = s.scalar(select(User.password_hash).where(User.email == FORWARDER))
    assert real is not None
    assert argon2.extract_parameters(accounts.dummy_hash()) == argon2.extract_parameters(real)
    unknown = svc.login("nobody@demo.corridor", "wrong password!")
    wrong = svc.login(FORWARDER, "wrong password!")
    assert unknown.status_code == wrong.status_code == 401
    assert unknown.json() == wrong.json()


def test_saturated_hash_slots_answer_503_with_retry_after(seeded, tmp_path):
    app, passwords = service(seeded, tmp_path, login_concurrent_hashes=1, login_hash_wait_s=0)
    with TestClient(app, raise_server_exceptions=False) as client:
        slots = app.state.hash_slots
        assert slots.acquire(blocking=False)  # the one slot is taken by a login in progress
        try:
            busy = client.post(
                "/api/v1/auth/login", json={"email": FORWARDER, "password": passwords[FORWARDER]}
            )
        finally:
            slots.release()
        assert busy.status_code == 503
        assert busy.json()["error"]["code"] == "unavailable"
        assert busy.headers["Retry-After"] == "1"
        again = client.post(
            "/api/v1/auth/login", json={"email": FORWARDER, "password": passwords[FORWARDER]}
        )
        assert again.status_code == 200


# -- item 9: tokens and users ---------------------------------------------------------------


def test_a_token_whose_user_was_deleted_gets_401(svc):
    headers = svc.headers(OTHER)
    assert svc.client.get("/api/v1/me", headers=headers).status_code == 200
    # As an operator deleting the row by hand would, foreign keys off for that one statement.
    if svc.db.dialect == "sqlite":
        raw = svc.db.engine.raw_connection()  # the driver's own: no BEGIN around the PRAGMA
        try:
            cursor = raw.cursor()
            cursor.execute("PRAGMA foreign_keys=OFF")  # a no-op inside a transaction
            cursor.execute("DELETE FROM users WHERE email = ?", (OTHER,))
            cursor.execute("PRAGMA foreign_keys=ON")
            raw.commit()
        finally:
            raw.close()
    else:
        with svc.db.engine.begin() as conn:
            conn.execute(text("SET LOCAL session_replication_role = replica"))
            conn.execute(delete(User).where(User.email == OTHER))
    # A change made behind the server's back reaches a process that remembers the token within
    # token_cache_s (api/identity.py); a process that has not seen the token answers at once.
    other_worker = create_app(Settings(var_dir=svc.app.state.settings.var_dir), svc.db)
    with TestClient(other_worker, raise_server_exceptions=False) as fresh:
        answer = fresh.get("/api/v1/me", headers=headers)
    assert answer.status_code == 401
    assert answer.json()["error"]["code"] == "unauthorized"


def test_admin_disables_a_user_whose_tokens_stop_working(svc):
    admin = svc.headers(ADMIN)
    victim = svc.headers(FORWARDER)
    users = svc.client.get("/api/v1/admin/users", headers=admin).json()
    forwarder = next(u for u in users if u["email"] == FORWARDER)
    assert forwarder["disabled"] is False
    answer = svc.client.post(f"/api/v1/admin/users/{forwarder['id']}/disable", headers=admin)
    assert answer.status_code == 200
    assert answer.json()["disabled"] is True
    assert svc.client.get("/api/v1/me", headers=victim).status_code == 401
    assert svc.login(FORWARDER).status_code == 401  # the right password, but disabled
    tokens = svc.client.get(f"/api/v1/admin/users/{forwarder['id']}/tokens", headers=admin)
    assert tokens.status_code == 200
    assert tokens.json()
    assert all(t["revoked"] for t in tokens.json())
    enabled = svc.client.post(f"/api/v1/admin/users/{forwarder['id']}/enable", headers=admin)
    assert enabled.json()["disabled"] is False
    assert svc.client.get("/api/v1/me", headers=victim).status_code == 401  # stays revoked
    assert svc.login(FORWARDER).status_code == 200


def test_only_the_admin_disables_and_not_itself(svc):
    admin = svc.headers(ADMIN)
    me = svc.client.get("/api/v1/me", headers=admin).json()
    itself = svc.client.post(f"/api/v1/admin/users/{me['id']}/disable", headers=admin)
    assert itself.status_code == 409
    forwarder = svc.headers(FORWARDER)
    by_forwarder = svc.client.post(f"/api/v1/admin/users/{me['id']}/disable", headers=forwarder)
    assert by_forwarder.status_code == 403
    assert svc.client.get("/api/v1/me", headers=admin).status_code == 200


def test_users_list_and_revoke_their_own_tokens_only(svc):
    first, second = svc.headers(FORWARDER), svc.headers(FORWARDER)
    other = svc.headers(OTHER)
    listed = svc.client.get("/api/v1/auth/tokens", headers=first).json()
    assert len(listed) == 2
    assert [t["current"] for t in listed].count(True) == 1
    assert not any(first["Authorization"].split()[1] in str(t) for t in listed)
    target = next(t for t in listed if not t["current"])
    foreign = svc.client.post(f"/api/v1/auth/tokens/{target['id']}/revoke", headers=other)
    assert foreign.status_code == 404  # another user's token is as unknown as a missing one
    assert svc.client.get("/api/v1/me", headers=second).status_code == 200
    own = svc.client.post(f"/api/v1/auth/tokens/{target['id']}/revoke", headers=first)
    assert own.status_code == 200
    assert own.json()["revoked"] is True
    assert svc.client.get("/api/v1/me", headers=second).status_code == 401
    assert svc.client.get("/api/v1/me", headers=first).status_code == 200


def test_admin_revokes_anyones_token(svc):
    victim = svc.headers(OTHER)
    token_id = svc.client.get("/api/v1/auth/tokens", headers=victim).json()[0]["id"]
    answer = svc.client.post(f"/api/v1/auth/tokens/{token_id}/revoke", headers=svc.headers(ADMIN))
    assert answer.status_code == 200
    assert svc.client.get("/api/v1/me", headers=victim).status_code == 401
    with svc.db.session() as s:
        assert s.get(ApiToken, token_id).revoked is True


def test_the_admin_neither_books_nor_cancels(svc):
    """docs/service.md: the coordination office reads every shipment and manages accounts."""
    route = {
        "origin": "dostyk",
        "destination": "tbilisi",
        "ready": "2026-03-03T08:00:00Z",
        "via": ["aktau_port"],
        "best": "time",
    }
    admin = svc.headers(ADMIN)
    booked = svc.client.post(
        "/api/v1/shipments", json={"reference": "ADM", "route": route}, headers=admin
    )
    assert booked.status_code == 403
    shipment = svc.client.post(
        "/api/v1/shipments",
        json={"reference": "FWD", "route": route},
        headers=svc.headers(FORWARDER),
    ).json()
    cancel = svc.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=admin)
    assert cancel.status_code == 403
    seen = svc.client.get(f"/api/v1/shipments/{shipment['id']}", headers=admin)
    assert seen.status_code == 200
    assert seen.json()["status"] == "planned"
