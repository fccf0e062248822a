from corridor.settings import PACKAGE_DATA_DIR
from corridor.store.seed import prepare
from tests.api.conftest import ADMIN, CUSTOMS_AZ, FORWARDER, OTHER, ROUTE


def error(response):
    body = response.json()
    assert set(body) == {"error"}, body
    return body["error"]


def test_health_is_public_and_reports_the_database(api, db):
    body = api.client.get("/api/v1/health").json()
    assert body["status"] == "ok"
    assert body["database"] == db.dialect
    assert body["network"]["nodes"] == 99  # 98 places and the Cape of Good Hope waypoint


def test_first_start_is_idempotent(api, db):
    assert prepare(db, PACKAGE_DATA_DIR) == []  # no second set of demo users


def test_login_me_logout(api):
    headers = api.headers(FORWARDER)
    me = api.client.get("/api/v1/me", headers=headers).json()
    assert me["kind"] == "forwarder"
    assert api.client.post("/api/v1/auth/logout", headers=headers).status_code == 204
    response = api.client.get("/api/v1/me", headers=headers)
    assert response.status_code == 401
    assert error(response)["field"] == "Authorization"


def test_wrong_password_and_missing_token(api):
    response = api.client.post("/api/v1/auth/login", json={"email": FORWARDER, "password": "nope"})
    assert response.status_code == 401
    assert error(response)["reason"] == "wrong e-mail or password"
    response = api.client.get("/api/v1/network/nodes")
    assert response.status_code == 401
    assert error(response)["reason"] == "missing bearer token"
    response = api.client.get(
        "/api/v1/network/nodes", headers={"Authorization": "Bearer cor_forged"}
    )
    assert response.status_code == 401


def test_network_endpoints(api):
    h = api.headers(OTHER)
    nodes = api.client.get("/api/v1/network/nodes", params={"country": "az"}, headers=h).json()
    assert {n["id"] for n in nodes} == {"alat_port", "baku", "ganja", "beyuk_kesik"}
    assert api.client.get("/api/v1/network/nodes/kars", headers=h).json()["country"] == "TR"
    ferries = api.client.get("/api/v1/network/links", params={"mode": "ferry"}, headers=h).json()
    assert len(ferries) == 9
    assert "geometry" not in ferries[0]
    link = api.client.get("/api/v1/network/links/kartsakhi-kars", headers=h).json()
    assert link["geometry"]
    geo = api.client.get("/api/v1/network/geojson", headers=h).json()
    assert geo["type"] == "FeatureCollection"
    missing = api.client.get("/api/v1/network/nodes/atlantis", headers=h)
    assert missing.status_code == 404
    assert error(missing) == {
        "code": "not_found",
        "field": "node_id",
        "reason": "no node 'atlantis'",
    }
    bad_mode = api.client.get("/api/v1/network/links", params={"mode": "air"}, headers=h)
    assert bad_mode.status_code == 422
    assert error(bad_mode)["field"] == "query.mode"


def test_route_planning(api):
    h = api.headers(FORWARDER)
    body = api.client.post("/api/v1/routes", json=ROUTE, headers=h).json()
    assert body["query"]["origin"] == "xian"
    assert body["itineraries"][0]["corridors"] == ["northern"]
    avoid = api.client.post(
        "/api/v1/routes", json={**ROUTE, "avoid_countries": ["RU"], "best": "time"}, headers=h
    ).json()
    assert len(avoid["itineraries"]) == 1
    assert "RU" not in str([leg["to_node"] for leg in avoid["itineraries"][0]["legs"]])
    corridor = api.client.post(
        "/api/v1/routes", json={**ROUTE, "corridor": "middle-kuryk-btk", "best": "time"}, headers=h
    ).json()
    assert corridor["itineraries"][0]["corridors"][0] == "middle-kuryk-btk"
    rows = api.client.post("/api/v1/routes/compare", json=ROUTE, headers=h).json()
    assert len(rows) == 10  # every corridor: with an itinerary, or left out with the reason
    assert all(r["itinerary"] or r["reason"] for r in rows)
    big = api.client.post(
        "/api/v1/routes", json={**ROUTE, "containers": 56, "best": "time"}, headers=h
    ).json()
    (plan,) = big["itineraries"]
    assert sum(lot["containers"] for lot in plan["lots"]) == 56
    assert plan["split"].startswith("56 x 40GP in")
    modes = api.client.get("/api/v1/network/modes", headers=h).json()
    rail = next(m for m in modes if m["mode"] == "rail")
    assert rail["gauge"]
    assert rail["style"]["color"].startswith("#")


def test_route_bad_input(api):
    h = api.headers(FORWARDER)
    cases = [
        ({**ROUTE, "origin": "Xyan"}, 422, "invalid", "origin"),
        ({**ROUTE, "destination": "xian"}, 422, "invalid", "destination"),
        ({**ROUTE, "containers": -1}, 422, "invalid", "containers"),
        ({**ROUTE, "containers": "many"}, 422, "invalid", "containers"),
        ({**ROUTE, "ready": "03/03/2026"}, 422, "invalid", "ready"),
        ({**ROUTE, "corridor": "via-mars"}, 422, "invalid", "corridor"),
        (
            {**ROUTE, "modes": ["rail"], "avoid_countries": ["RU", "KZ"]},
            422,
            "no_route",
            "destination",
        ),
        ({**ROUTE, "surprise": 1}, 422, "invalid", "surprise"),
    ]
    for payload, status, code, field in cases:
        response = api.client.post("/api/v1/routes", json=payload, headers=h)
        assert response.status_code == status, (payload, response.text)
        err = error(response)
        assert (err["code"], err["field"]) == (code, field), (payload, err)
    malformed = api.client.post(
        "/api/v1/routes", content=b"{not json", headers={**h, "Content-Type": "application/json"}
    )
    assert malformed.status_code == 400
    assert error(malformed)["code"] == "malformed_json"


def test_shipments_are_private_to_the_forwarder_and_visible_to_customs_on_the_route(api):
    fwd, other, customs = api.headers(FORWARDER), api.headers(OTHER), api.headers(CUSTOMS_AZ)
    via_az = {**ROUTE, "corridor": "middle-aktau-btk", "best": "time"}
    created = api.client.post(
        "/api/v1/shipments", json={"reference": "PO-1", "route": via_az}, headers=fwd
    )
    assert created.status_code == 201, created.text
    shipment = created.json()
    assert shipment["status"] == "planned"
    assert "AZ" in shipment["countries"]
    northern = api.client.post(
        "/api/v1/shipments", json={"reference": "PO-2", "route": ROUTE}, headers=fwd
    ).json()
    assert "AZ" not in northern["countries"]

    listed = api.client.get("/api/v1/shipments", headers=fwd).json()
    assert {s["reference"] for s in listed} == {"PO-1", "PO-2"}
    assert api.client.get("/api/v1/shipments", headers=other).json() == []
    denied = api.client.get(f"/api/v1/shipments/{shipment['id']}", headers=other)
    assert denied.status_code == 404
    assert (
        api.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=other).status_code
        == 404
    )

    seen_by_customs = api.client.get("/api/v1/shipments", headers=customs).json()
    assert [s["reference"] for s in seen_by_customs] == ["PO-1"]
    assert (
        api.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=customs).status_code
        == 403
    )
    assert (
        api.client.post(
            "/api/v1/shipments", json={"reference": "X", "route": ROUTE}, headers=customs
        ).status_code
        == 403
    )

    cancelled = api.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=fwd)
    assert cancelled.json()["status"] == "cancelled"
    again = api.client.post(f"/api/v1/shipments/{shipment['id']}/cancel", headers=fwd)
    assert again.status_code == 409
    assert error(again)["code"] == "conflict"
    assert (
        len(api.client.get("/api/v1/shipments", params={"status": "planned"}, headers=fwd).json())
        == 1
    )
    admin = api.client.get("/api/v1/shipments", headers=api.headers(ADMIN)).json()
    assert len(admin) == 2


def test_shipment_option_out_of_range_and_unknown_id(api):
    fwd = api.headers(FORWARDER)
    response = api.client.post(
        "/api/v1/shipments", json={"reference": "PO", "route": ROUTE, "option": 40}, headers=fwd
    )
    assert response.status_code == 422
    assert error(response)["field"] == "option"
    assert api.client.get("/api/v1/shipments/nope", headers=fwd).status_code == 404


def test_admin_endpoints(api):
    fwd, admin = api.headers(FORWARDER), api.headers(ADMIN)
    response = api.client.post(
        "/api/v1/admin/organisations", json={"name": "X", "kind": "carrier"}, headers=fwd
    )
    assert response.status_code == 403
    org = api.client.post(
        "/api/v1/admin/organisations", json={"name": "ASCO", "kind": "carrier"}, headers=admin
    )
    assert org.status_code == 201
    bad = api.client.post(
        "/api/v1/admin/organisations", json={"name": "KZ customs", "kind": "customs"}, headers=admin
    )
    assert bad.status_code == 422
    assert error(bad)["field"] == "country"
    user = api.client.post(
        "/api/v1/admin/users",
        json={
            "organisation_id": org.json()["id"],
            "email": "ops@asco.az",
            "name": "Ops",
            "password": "long enough pw",
        },
        headers=admin,
    )
    assert user.status_code == 201
    assert (
        api.client.post(
            "/api/v1/auth/login", json={"email": "ops@asco.az", "password": "long enough pw"}
        ).status_code
        == 200
    )
