"""The per-process token cache (api/identity.py): what it remembers, and the bound it keeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient
from sqlalchemy import event

from corridor.api import create_app
from corridor.api.identity import TokenCache
from corridor.settings import Settings
from corridor.store import accounts
from corridor.store.accounts import Principal
from corridor.store.models import OrgKind
from tests.api.conftest import FORWARDER, OTHER

WHO = Principal("u1", "a@b.c", "A", "o1", "Org", OrgKind.FORWARDER, None, "t1")


def test_an_entry_lives_no_longer_than_the_bound_nor_than_its_token():
    cache = TokenCache(ttl_s=0.2)
    cache.put("token", WHO)
    assert cache.get("token") == WHO
    assert cache.get("another") is None
    time.sleep(0.3)  # past the bound: looked up again
    assert cache.get("token") is None
    cache.put("expired", WHO, datetime.now(UTC) - timedelta(seconds=1))
    assert cache.get("expired") is None  # a token past its own expiry is never served
    off = TokenCache(ttl_s=0)
    off.put("token", WHO)
    assert off.get("token") is None


def test_revoking_through_the_api_stops_the_token_at_once_though_it_is_remembered(api):
    assert api.client.app.state.settings.token_cache_s > 0
    headers = api.headers(FORWARDER)
    assert api.client.get("/api/v1/me", headers=headers).status_code == 200  # now remembered
    assert api.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    assert api.client.get("/api/v1/me", headers=headers).status_code == 401

    other = api.headers(OTHER)
    me = api.client.get("/api/v1/me", headers=other).json()
    admin = api.headers("admin@demo.corridor")
    disabled = api.client.post(f"/api/v1/admin/users/{me['id']}/disable", headers=admin)
    assert disabled.status_code == 200
    assert api.client.get("/api/v1/me", headers=other).status_code == 401


def test_a_change_made_elsewhere_is_honoured_within_the_bound(seeded, tmp_path):
    """Another worker (or the CLI) revokes: this process stops honouring it by token_cache_s."""
    settings = Settings(var_dir=tmp_path, token_cache_s=0.5)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        login = {"email": FORWARDER, "password": seeded.passwords[FORWARDER]}
        token = client.post("/api/v1/auth/login", json=login).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        assert client.get("/api/v1/me", headers=headers).status_code == 200
        with seeded.db.session(write=True) as s:  # as `corridor admin revoke-token` does
            who = accounts.principal_for(s, token)
            assert who is not None
            accounts.revoke_token(s, None, who.token_id)
        time.sleep(0.6)  # past the bound
        assert client.get("/api/v1/me", headers=headers).status_code == 401


def test_wrong_tokens_are_never_remembered(api):
    for i in range(50):
        bad = {"Authorization": f"Bearer not-a-token-{i}"}
        assert api.client.get("/api/v1/me", headers=bad).status_code == 401
    cache: TokenCache = api.client.app.state.tokens
    assert cache._known == {}


def test_an_answer_asked_before_a_revocation_here_is_never_applied_after_it():
    cache = TokenCache(ttl_s=60)
    generation = cache.generation
    cache.forget_all()  # a revocation through this process, while a lookup was under way
    cache.put("token", WHO, generation=generation)
    assert cache.get("token") is None
    cache.put("token", WHO, generation=cache.generation)
    assert cache.get("token") == WHO
    generation, asked = cache.due()
    assert asked == [TokenCache.key("token")]
    cache.forget_all()
    cache.renew(generation, time.monotonic(), asked, {asked[0]: (WHO, None)})
    assert cache.get("token") is None


def test_a_round_renews_the_tokens_in_use_and_drops_the_ones_the_database_refuses():
    cache = TokenCache(ttl_s=0.3)
    for token in ("kept", "gone", "idle"):
        cache.put(token, WHO)
    assert cache.get("kept") == WHO  # used, as is "gone"; "idle" is not
    assert cache.get("gone") == WHO
    asked: list[list[str]] = []

    def lookup(digests: list[str]) -> dict[str, tuple[Principal, datetime | None]]:
        asked.append(sorted(digests))
        return {TokenCache.key("kept"): (WHO, None)}

    assert cache.refresh(lookup) == 2
    assert asked == [sorted([TokenCache.key("kept"), TokenCache.key("gone")])]
    assert cache.get("gone") is None  # the database said no: dropped at once
    time.sleep(0.2)
    assert cache.get("kept") == WHO
    assert cache.refresh(lookup) == 1  # only what was used since the last round
    time.sleep(0.2)  # 0.4 s after it was put, 0.2 s after its last renewal
    assert cache.get("kept") == WHO
    assert cache.get("idle") is None  # never renewed: gone after the bound
    assert cache.refresh(lambda digests: {}) == 1
    assert cache.get("kept") is None


def _token_queries(db) -> list[str]:
    """The statements that look tokens up, as the database receives them."""
    seen: list[str] = []

    def before(conn, cursor, statement, parameters, context, executemany):
        if "api_tokens.token_hash" in statement:
            seen.append(statement)

    event.listen(db.engine, "before_cursor_execute", before)
    return seen


def test_a_token_in_steady_use_is_renewed_in_rounds_not_looked_up_per_request(seeded, tmp_path):
    settings = Settings(var_dir=tmp_path, token_cache_s=0.4)
    with TestClient(create_app(settings, seeded.db), raise_server_exceptions=False) as client:
        login = {"email": FORWARDER, "password": seeded.passwords[FORWARDER]}
        token = client.post("/api/v1/auth/login", json=login).json()["token"]
        headers = {"Authorization": f"Bearer {token}"}
        seen = _token_queries(seeded.db)
        began = time.monotonic()
        while time.monotonic() - began < 1.6:  # four bounds
            assert client.get("/api/v1/me", headers=headers).status_code == 200
            time.sleep(0.05)
        single = [q for q in seen if " IN " not in q.upper()]
        rounds = [q for q in seen if " IN " in q.upper()]
        assert len(single) == 1, seen  # the first request only
        assert len(rounds) >= 3

        # revoked elsewhere while in steady use: refused within the bound
        with seeded.db.session(write=True) as s:
            who = accounts.principal_for(s, token)
            assert who is not None
            accounts.revoke_token(s, None, who.token_id)
        revoked = time.monotonic()
        while client.get("/api/v1/me", headers=headers).status_code == 200:
            assert time.monotonic() - revoked < 0.4 + 0.1
            time.sleep(0.02)
