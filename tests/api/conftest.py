from __future__ import annotations

from dataclasses import dataclass

import pytest
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
