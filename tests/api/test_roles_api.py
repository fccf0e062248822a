"""What the customs workspace and the administration page read and write, on SQLite and PostgreSQL."""

from __future__ import annotations

import itertools
from datetime import datetime

from sqlalchemy import select

from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.models import Organisation, Shipment
from corridor.store.seed import DEMO_DECLARABLE, prepare
from tests.api.conftest import ADMIN, CUSTOMS_AZ, FORWARDER, OTHER
from tests.api.test_customs_api import BODY, ROUTE

V1 = "/api/v1"


def _lodged(api):
    """Dostyk to Tbilisi, lodged by the forwarder and released at departure by KZ customs."""
    fwd = api.headers(FORWARDER)
    shipment = api.client.post(
        f"{V1}/shipments", json={"reference": "PO-LOG", "route": ROUTE}, headers=fwd
    ).json()
    decl = api.client.post(
        f"{V1}/customs/declarations",
        json={"shipment_id": shipment["id"], "declaration": BODY},
        headers=fwd,
    ).json()
    kz = api.headers("customs.kz@demo.corridor")
    departure = decl["offices"][0]["id"]
    for action in ("accept", "check", "release"):
        response = api.client.post(
            f"{V1}/customs/declarations/{decl['id']}/actions",
            json={"action": action, "office_id": departure, "details": {"result": "conform"}},
            headers=kz,
        )
        assert response.status_code == 200, response.text
    return fwd, kz, decl, departure


def test_a_declarations_signed_records_and_the_paged_log(api):
    fwd, kz, decl, departure = _lodged(api)
    records = api.client.get(f"{V1}/customs/declarations/{decl['id']}/log", headers=fwd).json()
    assert [r["action"] for r in records] == ["release", "check", "accept", "lodge", "draft"]
    # Nothing else was logged in between, so each record chains onto the one before it.
    for newer, older in itertools.pairwise(records):
        assert newer["seq"] == older["seq"] + 1
        assert newer["prev_hash"] == older["record_hash"]
    assert {r["actor"] for r in records[:3]} == {
        "State Revenue Committee of Kazakhstan, customs (demo)"
    }
    assert all(len(r["signature"]) > 60 for r in records)
    other = api.client.get(
        f"{V1}/customs/declarations/{decl['id']}/log", headers=api.headers(OTHER)
    )
    assert other.status_code == 404

    admin = api.headers(ADMIN)
    first = api.client.get(f"{V1}/customs/log?limit=2", headers=admin).json()
    assert [r["seq"] for r in first] == [records[0]["seq"], records[1]["seq"]]
    rest = api.client.get(
        f"{V1}/customs/log?limit=10&before_seq={first[-1]['seq']}", headers=admin
    ).json()
    assert [r["seq"] for r in rest] == [r["seq"] for r in records[2:]]
    here = api.client.get(f"{V1}/customs/log?office_id={departure}", headers=kz).json()
    assert [r["action"] for r in here] == ["release", "check", "accept"]
    assert api.client.get(f"{V1}/customs/log", headers=fwd).status_code == 403
    verified = api.client.get(f"{V1}/customs/log/verify", headers=kz).json()
    assert verified["ok"] is True
    assert verified["records"] == 5


def test_organisations_listed_and_tokens_issued_once(api):
    admin = api.headers(ADMIN)
    orgs = api.client.get(f"{V1}/admin/organisations", headers=admin).json()
    names = [o["name"] for o in orgs]
    assert names == sorted(names)
    assert "Kazakhstan Temir Zholy railway (demo)" in names
    assert {o["country"] for o in orgs if o["kind"] == "customs"} == {"CN", "KZ", "AZ", "GE", "TR"}
    assert (
        api.client.get(f"{V1}/admin/organisations", headers=api.headers(FORWARDER)).status_code
        == 403
    )

    users = {u["email"]: u for u in api.client.get(f"{V1}/admin/users", headers=admin).json()}
    target = users[OTHER]["id"]
    made = api.client.post(
        f"{V1}/admin/users/{target}/tokens", json={"name": "erp", "ttl_days": 30}, headers=admin
    )
    assert made.status_code == 201, made.text
    token = made.json()
    me = api.client.get(f"{V1}/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert me.json()["email"] == OTHER
    listed = api.client.get(f"{V1}/admin/users/{target}/tokens", headers=admin).json()
    assert [t["name"] for t in listed if t["id"] == token["id"]] == ["erp"]
    assert all("token" not in t for t in listed)
    expires = datetime.fromisoformat(token["expires_at"])
    days = (expires - datetime.fromisoformat(token["created_at"])).days
    assert days in (29, 30)
    api.client.post(f"{V1}/auth/tokens/{token['id']}/revoke", headers=admin)
    gone = api.client.get(f"{V1}/me", headers={"Authorization": f"Bearer {token['token']}"})
    assert gone.status_code == 401

    api.client.post(f"{V1}/admin/users/{target}/disable", headers=admin)
    refused = api.client.post(
        f"{V1}/admin/users/{target}/tokens", json={"name": "again"}, headers=admin
    )
    assert refused.status_code == 409
    assert refused.json()["error"]["field"] == "user_id"
    unknown = api.client.post(f"{V1}/admin/users/nobody/tokens", json={"name": "x"}, headers=admin)
    assert unknown.status_code == 404
    assert (
        api.client.post(
            f"{V1}/admin/users/{target}/tokens", json={"name": "x"}, headers=api.headers(CUSTOMS_AZ)
        ).status_code
        == 403
    )


def test_the_demo_covers_the_whole_corridor(db):
    logins = {lg.email for lg in prepare(db, PACKAGE_DATA_DIR)}
    assert {f"customs.{c}@demo.corridor" for c in ("cn", "kz", "az", "ge", "tr")} <= logins
    assert {
        "rail.ktz@demo.corridor",
        "ferry.asco@demo.corridor",
        "port.aktau@demo.corridor",
    } <= logins
    with db.session() as s:
        shipment = s.scalar(select(Shipment).where(Shipment.reference == DEMO_DECLARABLE))
        assert shipment is not None
        assert shipment.status == "planned"
        assert {"CN", "KZ", "AZ", "GE", "TR"} <= set(shipment.countries.split(";"))
        customs = s.scalars(select(Organisation.country).where(Organisation.kind == "customs"))
        assert set(customs) == {"CN", "KZ", "AZ", "GE", "TR"}
