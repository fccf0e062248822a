"""The customs transit flow over the API, on SQLite and PostgreSQL."""

from __future__ import annotations

import copy

import pytest
from sqlalchemy import text
from typer.testing import CliRunner

from corridor.cli import app as cli
from tests.api.conftest import ADMIN, CUSTOMS_AZ, FORWARDER, OTHER
from tests.api.customs_examples import ROUTE, declaration

BODY = declaration("LRN-001")


@pytest.fixture
def flow(api):
    admin = api.headers(ADMIN)
    users = {}
    for country in ("KZ", "GE"):
        org = api.client.post(
            "/api/v1/admin/organisations",
            json={"name": f"Customs {country}", "kind": "customs", "country": country},
            headers=admin,
        ).json()
        email = f"officer@customs-{country.lower()}.test"
        api.client.post(
            "/api/v1/admin/users",
            json={
                "organisation_id": org["id"],
                "email": email,
                "name": "Officer",
                "password": "officer password",
            },
            headers=admin,
        )
        users[country] = {
            "Authorization": "Bearer "
            + api.client.post(
                "/api/v1/auth/login", json={"email": email, "password": "officer password"}
            ).json()["token"]
        }
    users["AZ"] = api.headers(CUSTOMS_AZ)
    fwd = api.headers(FORWARDER)
    shipment = api.client.post(
        "/api/v1/shipments", json={"reference": "PO-C", "route": ROUTE}, headers=fwd
    ).json()
    return api, fwd, users, shipment


def declare(api, fwd, shipment, body=BODY):
    return api.client.post(
        "/api/v1/customs/declarations",
        json={"shipment_id": shipment["id"], "declaration": body},
        headers=fwd,
    )


def act(api, headers, decl, action, office=None, **details):
    return api.client.post(
        f"/api/v1/customs/declarations/{decl}/actions",
        json={"action": action, "office_id": office, "details": details},
        headers=headers,
    )


def test_one_declaration_across_three_countries(flow):
    api, fwd, officers, shipment = flow
    created = declare(api, fwd, shipment)
    assert created.status_code == 201, created.text
    decl = created.json()
    assert decl["state"] == "lodged"
    offices = [(o["role"], o["country"]) for o in decl["offices"]]
    assert offices == [
        ("departure", "KZ"),
        ("exit", "KZ"),
        ("entry", "AZ"),
        ("exit", "AZ"),
        ("entry", "GE"),
        ("destination", "GE"),
    ]
    ids = [o["id"] for o in decl["offices"]]
    # Pre-arrival: the Azerbaijani entry office already sees it, with channel and reasons.
    expected = api.client.get(
        f"/api/v1/customs/offices/{ids[2]}/expected", headers=officers["AZ"]
    ).json()
    assert [e["declaration_id"] for e in expected] == [decl["id"]]
    assert expected[0]["channel"] == "green"
    assert expected[0]["reasons"]

    kz, az, ge = officers["KZ"], officers["AZ"], officers["GE"]
    steps = [
        (kz, "accept", 0),
        (kz, "release", 0),
        (kz, "arrive", 1),
        (kz, "pass", 1),
        (az, "arrive", 2),
        (az, "pass", 2),
        (az, "arrive", 3),
        (az, "pass", 3),
        (ge, "arrive", 4),
        (ge, "pass", 4),
        (ge, "arrive", 5),
        (ge, "discharge", 5),
    ]
    for who, action, index in steps:
        response = act(api, who, decl["id"], action, ids[index])
        assert response.status_code == 200, (action, index, response.text)
    final = api.client.get(f"/api/v1/customs/declarations/{decl['id']}", headers=fwd).json()
    assert final["state"] == "discharged"
    assert final["guarantee_state"] == "released"
    kpis = api.client.get(f"/api/v1/customs/offices/{ids[2]}/kpis", headers=az).json()
    assert kpis["released"] == 1
    assert kpis["share_green"] == 1.0
    report = api.client.get("/api/v1/customs/log/verify", headers=api.headers(ADMIN)).json()
    assert report["ok"] is True
    assert report["records"] == 2 + len(steps)  # draft, lodge, then every office action
    # The release at departure is also an EPCIS event on the shipment (issue 13 item 6).
    events = api.client.get(
        f"/api/v1/epcis/events?EQ_shipment={shipment['id']}", headers=fwd
    ).json()["epcisBody"]["queryResults"]["resultsBody"]["eventList"]
    released = [e for e in events if str(e.get("bizStep", "")).endswith("inspecting")]
    assert len(released) == 1
    assert released[0]["bizLocation"]["id"].startswith("urn:corridor:node:")


def test_refusals_leave_everything_unchanged(flow, db):
    api, fwd, officers, shipment = flow
    decl = declare(api, fwd, shipment).json()
    ids = [o["id"] for o in decl["offices"]]

    def log_size():
        return api.client.get("/api/v1/customs/log/verify", headers=api.headers(ADMIN)).json()[
            "records"
        ]

    before = log_size()
    cases = [
        (
            officers["AZ"],
            "accept",
            ids[0],
            403,
            "forbidden",
            "your authority acts only at offices in AZ",
        ),
        (
            officers["KZ"],
            "accept",
            "co-kars",
            422,
            "invalid",
            "not on this declaration's itinerary",
        ),
        (
            officers["KZ"],
            "release",
            ids[0],
            409,
            "conflict",
            "cannot release a declaration in state lodged",
        ),
        (officers["KZ"], "arrive", ids[1], 409, "conflict", "cannot arrive"),
        (officers["KZ"], "fly", ids[0], 422, "invalid", "action"),
        (api.headers(OTHER), "cancel", None, 404, "not_found", "no declaration"),
    ]
    for who, action, office, status, code, reason in cases:
        response = act(api, who, decl["id"], action, office)
        assert response.status_code == status, (action, response.text)
        err = response.json()["error"]
        assert err["code"] == code
        assert reason in (err["reason"] or "") + (err["field"] or ""), err
    assert log_size() == before
    assert (
        api.client.get(f"/api/v1/customs/declarations/{decl['id']}", headers=fwd).json()["state"]
        == "lodged"
    )


def test_insufficient_guarantee_is_refused_at_acceptance(flow):
    api, fwd, officers, shipment = flow
    body = copy.deepcopy(BODY)
    body["guarantee"]["amount"] = 1000
    decl = declare(api, fwd, shipment, body).json()
    response = act(api, officers["KZ"], decl["id"], "accept", decl["offices"][0]["id"])
    assert response.status_code == 422
    assert response.json()["error"]["field"] == "guarantee.amount"
    assert "below the duties at risk 480,000.00" in response.json()["error"]["reason"]
    assert (
        api.client.get(f"/api/v1/customs/declarations/{decl['id']}", headers=fwd).json()["state"]
        == "lodged"
    )


def test_bad_declarations_name_the_field(flow):
    api, fwd, _, shipment = flow
    cases = [
        (("goods", 0, "hs_code"), "9999", "hs_code"),
        (("goods", 0, "net_kg"), 9500, "net mass 9500 kg is above gross mass 9000 kg"),
        (("containers", 0, "number"), "CSQU3054384", "wrong check digit"),
        (("goods", 0, "currency"), "USX", "ISO 4217"),
        (("holder", "country"), "XX", "country"),
    ]
    for path, value, expected in cases:
        body = copy.deepcopy(BODY)
        target = body
        for key in path[:-1]:
            target = target[key]
        target[path[-1]] = value
        response = declare(api, fwd, shipment, body)
        assert response.status_code == 422, (path, response.text)
        err = response.json()["error"]
        assert expected in err["reason"] + (err["field"] or ""), (path, err)
    assert api.client.get("/api/v1/customs/declarations", headers=fwd).json() == []


def test_red_channel_and_risk_reasons(flow):
    api, fwd, officers, shipment = flow
    body = copy.deepcopy(BODY)
    body["goods"][0]["value"] = 20_000  # laptops at USD 2.5 per kg: under the reference range
    body["goods"].append(
        {
            "hs_code": "930190",
            "description": "Military weapons",
            "packages": 1,
            "gross_kg": 50,
            "net_kg": 40,
            "value": 10_000,
            "currency": "USD",
            "origin_country": "CN",
        }
    )
    decl = declare(api, fwd, shipment, body).json()
    dep = decl["offices"][0]
    assert dep["channel"] == "red"
    assert any("HS chapter 93" in r for r in dep["reasons"])
    assert any("below USD 5 per kg" in r for r in dep["reasons"])
    kz = officers["KZ"]
    assert act(api, kz, decl["id"], "accept", dep["id"]).status_code == 200
    refused = act(api, kz, decl["id"], "release", dep["id"])
    assert refused.status_code == 409
    assert "inspection" in refused.json()["error"]["reason"]
    assert act(api, kz, decl["id"], "check", dep["id"], result="conform").status_code == 200
    assert act(api, kz, decl["id"], "release", dep["id"]).status_code == 200


def test_tampering_with_a_stored_record_is_caught(flow, db, monkeypatch, tmp_path):
    api, fwd, officers, shipment = flow
    decl = declare(api, fwd, shipment).json()
    act(api, officers["KZ"], decl["id"], "accept", decl["offices"][0]["id"])
    with db.engine.begin() as conn:
        conn.execute(
            text("UPDATE customs_log SET office_id = 'x', body = :b WHERE seq = 2"),
            {"b": '{"seq": 2, "action": "lodge", "details": {"forged": true}}'},
        )
    report = api.client.get("/api/v1/customs/log/verify", headers=api.headers(ADMIN)).json()
    assert report["ok"] is False
    assert report["first_bad_record"] == 2
    assert "altered" in report["reason"]
    monkeypatch.setenv("CORRIDOR_DATABASE_URL", db.url)
    monkeypatch.setenv("CORRIDOR_VAR_DIR", str(tmp_path))
    from corridor.settings import get_settings

    get_settings.cache_clear()
    result = CliRunner().invoke(cli, ["customs", "verify"])
    get_settings.cache_clear()
    assert result.exit_code == 1
    assert "record 2" in result.output


def test_not_conform_goods_are_held_and_yellow_needs_a_documents_check(flow):
    api, fwd, officers, shipment = flow
    body = copy.deepcopy(BODY)
    body["goods"].append(
        {
            "hs_code": "930190",
            "description": "Military weapons",
            "packages": 1,
            "gross_kg": 50,
            "net_kg": 40,
            "value": 10_000,
            "currency": "USD",
            "origin_country": "CN",
        }
    )
    decl = declare(api, fwd, shipment, body).json()
    dep = decl["offices"][0]["id"]
    kz = officers["KZ"]
    assert act(api, kz, decl["id"], "accept", dep).status_code == 200
    assert (
        act(api, kz, decl["id"], "check", dep, result="not_conform", seals_intact=False).status_code
        == 200
    )
    held = act(api, kz, decl["id"], "release", dep)
    assert held.status_code == 409
    assert "not conform" in held.json()["error"]["reason"]
    # Yellow: tobacco scores 35 points.
    yellow = copy.deepcopy(BODY)
    yellow["lrn"] = "LRN-Y"
    yellow["goods"][0] = {**yellow["goods"][0], "hs_code": "240220", "description": "Cigarettes"}
    # One declaration per shipment: the second one is refused, a new booking is declared.
    again = declare(api, fwd, shipment, yellow)
    assert again.status_code == 409
    assert "already has a declaration" in again.json()["error"]["reason"]
    other = api.client.post(
        "/api/v1/shipments", json={"reference": "PO-Y", "route": ROUTE}, headers=fwd
    ).json()
    decl = declare(api, fwd, other, yellow).json()
    assert decl["offices"][0]["channel"] == "yellow"
    assert act(api, kz, decl["id"], "accept", dep).status_code == 200
    refused = act(api, kz, decl["id"], "release", dep)
    assert refused.status_code == 409
    assert "documents check" in refused.json()["error"]["reason"]


def test_a_stale_read_cannot_overwrite_a_concurrent_action(flow, db, tmp_path, monkeypatch):
    """Two officers act at once: the one whose read is stale gets a conflict, nothing else changes."""
    from corridor.customs.lifecycle import Action
    from corridor.store import customs
    from corridor.store.accounts import principal_for

    api, fwd, officers, shipment = flow
    decl = declare(api, fwd, shipment).json()
    dep = decl["offices"][0]["id"]
    token = officers["KZ"]["Authorization"].split()[1]
    with db.session() as s1:
        who = principal_for(s1, token)
        stale = customs.get(s1, who, decl["id"])
        s1.expunge(stale)  # what s1 read, frozen: state lodged
    assert (
        act(api, officers["KZ"], decl["id"], "accept", dep).status_code == 200
    )  # the other officer
    monkeypatch.setattr(customs, "get", lambda *args: stale)
    with db.session() as s2, pytest.raises(customs.CustomsError) as caught:
        customs.act(s2, who, tmp_path / "keys", [], decl["id"], Action.REJECT, dep, {})
    assert caught.value.code == "conflict"
    monkeypatch.undo()
    assert (
        api.client.get(f"/api/v1/customs/declarations/{decl['id']}", headers=fwd).json()["state"]
        == "accepted"
    )
    assert (
        api.client.get("/api/v1/customs/log/verify", headers=api.headers(ADMIN)).json()["ok"]
        is True
    )


def test_only_the_booking_forwarder_declares_and_bad_values_are_4xx(flow):
    api, fwd, officers, shipment = flow
    admin = api.headers(ADMIN)
    assert declare(api, admin, shipment).status_code == 403
    bad = copy.deepcopy(BODY)
    bad["lrn"] = "L\u0000X"
    assert declare(api, fwd, shipment, bad).status_code == 422
    decl = declare(api, fwd, shipment).json()
    nan = api.client.post(
        f"/api/v1/customs/declarations/{decl['id']}/actions",
        content=b'{"action": "accept", "office_id": "%s", "details": {"note": NaN}}'
        % decl["offices"][0]["id"].encode(),
        headers={**officers["KZ"], "Content-Type": "application/json"},
    )
    assert nan.status_code == 422
    assert api.client.get("/api/v1/customs/log/verify", headers=admin).json()["ok"] is True


def test_batch_lodging_tree_head_and_cosigning_over_http(flow):
    api, fwd, officers, shipment = flow
    second = api.client.post(
        "/api/v1/shipments", json={"reference": "PO-2", "route": ROUTE}, headers=fwd
    ).json()
    bodies = [dict(copy.deepcopy(BODY), lrn=f"LRN-B{i}") for i in range(2)]
    batch = api.client.post(
        "/api/v1/customs/declarations/batch",
        json={
            "declarations": [
                {"shipment_id": s["id"], "declaration": b}
                for s, b in zip((shipment, second), bodies, strict=True)
            ]
        },
        headers=fwd,
    )
    assert batch.status_code == 201, batch.text
    out = batch.json()
    assert [d["state"] for d in out["declarations"]] == ["lodged", "lodged"]
    assert out["tree_head"]["size"] == 4  # draft and lodge of each
    assert [s["authority"] for s in out["tree_head"]["signatures"]] == ["corridor-platform"]
    assert declare(api, fwd, shipment).status_code == 409
    admin = api.headers(ADMIN)
    assert api.client.get("/api/v1/customs/log/head", headers=admin).json() == out["tree_head"]
    decl = out["declarations"][0]["id"]
    dep = api.client.get(f"/api/v1/customs/declarations/{decl}", headers=fwd).json()["offices"][0]
    assert act(api, officers["KZ"], decl, "accept", dep["id"]).status_code == 200
    cosigned = api.client.post("/api/v1/customs/log/cosign", headers=officers["KZ"])
    assert cosigned.status_code == 200, cosigned.text
    assert cosigned.json()["size"] == 5
    assert len(cosigned.json()["signatures"]) == 2
    assert api.client.post("/api/v1/customs/log/cosign", headers=fwd).status_code == 403
    report = api.client.get("/api/v1/customs/log/verify", headers=admin).json()
    assert (report["ok"], report["records"], report["declarations"]) == (True, 5, 2)
    assert report["heads"] == 2  # the current head and the cosigned one
