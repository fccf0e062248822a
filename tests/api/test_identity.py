"""The per-process token cache (api/identity.py): what it remembers, and the bound it keeps."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

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
