from __future__ import annotations

from dataclasses import dataclass

import pytest
from fastapi.testclient import TestClient

from corridor.api import create_app
from corridor.settings import PACKAGE_DATA_DIR, Settings
from corridor.store.seed import prepare

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

    def headers(self, email: str) -> dict[str, str]:
        response = self.client.post(
            "/api/v1/auth/login", json={"email": email, "password": self.passwords[email]}
        )
        assert response.status_code == 200, response.text
        return {"Authorization": f"Bearer {response.json()['token']}"}


@pytest.fixture
def api(db, tmp_path):
    logins = prepare(db, PACKAGE_DATA_DIR, demo_shipment=False)
    app = create_app(Settings(var_dir=tmp_path), db)
    with TestClient(app, raise_server_exceptions=False) as client:
        yield Api(client, {login.email: login.password for login in logins})


FORWARDER = "forwarder@demo.corridor"
OTHER = "other-forwarder@demo.corridor"
CUSTOMS_AZ = "customs.az@demo.corridor"
ADMIN = "admin@demo.corridor"
