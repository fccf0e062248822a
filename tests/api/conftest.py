from __future__ import annotations

import threading
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.db import Database
from tests.servers import Running, running

ROUTE = {
    "origin": "xian",
    "destination": "duisburg",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 40,
}


@dataclass
class Api:
    client: TestClient
    passwords: dict[str, str]
    db: Database

    def headers(self, email: str) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": self.passwords[email]}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def api(seeded, tmp_path):
    """The API over a copy of the seeded template database (the same database as `db`)."""
    app = create_app(Settings(var_dir=tmp_path), seeded.db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, seeded.passwords, seeded.db)


FORWARDER = "forwarder@demo.corridor"
OTHER = "other-forwarder@demo.corridor"
CUSTOMS_AZ = "customs.az@demo.corridor"
ADMIN = "admin@demo.corridor"


@dataclass
class Live:
    """The real server (uvicorn on a free loopback port) over a seeded database."""

    base: str
    passwords: dict[str, str]
    db: Database

    def headers(self, email: str) -> dict[str, str]:
        response = httpx.post(
            f"{self.base}/auth/login",
            json={"email": email, "password": self.passwords[email]},
            timeout=30,
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


def serve_in_thread(app) -> tuple[str, uvicorn.Server, threading.Thread]:
    """Serve ``app`` on a free loopback port: (API base URL, server, thread); stop the server
    with ``server.should_exit = True`` and join the thread."""
    running = Running(app)
    return f"{running.url}api/v1", running.server, running.thread


@pytest.fixture
def live_settings(tmp_path) -> Settings:
    """Settings of the `live` server; a test may override this fixture.

    Requests may wait long for their turn: the tests check outcomes, never timings, and a busy
    CI machine must not turn a burst into 503s.
    """
    return Settings(var_dir=tmp_path, queue_timeout_s=120, db_pool_timeout_s=60)


@pytest.fixture
def live(seeded, live_settings):
    with running(create_app(live_settings, seeded.db)) as server:
        yield Live(f"{server.url}api/v1", seeded.passwords, seeded.db)
