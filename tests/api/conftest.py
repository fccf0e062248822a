from __future__ import annotations

import socket
import threading
import time
from dataclasses import dataclass

import httpx
import pytest
import uvicorn
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.settings import Settings
from corridor.store.db import Database

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
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning"))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        if not thread.is_alive():
            raise RuntimeError("the server did not start")
        time.sleep(0.01)
    return f"http://127.0.0.1:{port}/api/v1", server, thread


@pytest.fixture
def live_settings(tmp_path) -> Settings:
    """Settings of the `live` server; a test may override this fixture.

    Requests may wait long for their turn: the tests check outcomes, never timings, and a busy
    CI machine must not turn a burst into 503s.
    """
    return Settings(var_dir=tmp_path, queue_timeout_s=120, db_pool_timeout_s=60)


@pytest.fixture
def live(seeded, live_settings):
    base, server, thread = serve_in_thread(create_app(live_settings, seeded.db))
    try:
        yield Live(base, seeded.passwords, seeded.db)
    finally:
        server.should_exit = True
        thread.join(10)
