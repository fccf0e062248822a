"""Every operation of the OpenAPI document, called by every role on another's resource, answers
exactly what ONE written matrix says (issue 9, item 4).

The resources belong to the owner, a forwarder. The other roles are a second forwarder, a
carrier, the customs authority of Azerbaijan (a country the shipments pass), the administrator
and an anonymous caller. The matrix follows docs/service.md "Who may do what": another
organisation's resource answers 404 as an unknown one would; a role that may never do an action
gets 403; the admin reads everything and manages accounts but neither books nor cancels.

An operation added to the API without a row here fails the test: access is decided, not
inherited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import argon2
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import select

from corridor.api import create_app
from corridor.jobs import register
from corridor.routing import Itinerary
from corridor.settings import Settings
from corridor.simulation import scenario_names
from corridor.store import accounts
from corridor.store.models import User
from corridor.tracking.generator import container_numbers, document, events_for
from tests.api.customs_examples import ROUTE, declaration

ROLES = ("anonymous", "carrier", "customs", "other", "admin", "owner")

#: Expected status per operation (rows) and role (columns, in ROLES order). Operations that
#: change state are called by the owner last, so its own success does not hide the others' cells.
MATRIX = """
GET    /api/v1/health                                         200 200 200 200 200 200
GET    /api/v1/health/ready                                   200 200 200 200 200 200
POST   /api/v1/auth/login                                     401 200 200 200 200 200
POST   /api/v1/auth/logout                                    401 204 204 204 204 204
GET    /api/v1/me                                             401 200 200 200 200 200
GET    /api/v1/auth/tokens                                    401 200 200 200 200 200
POST   /api/v1/auth/tokens/{token_id}/revoke                  401 404 404 404 200 200
GET    /api/v1/network/nodes                                  401 200 200 200 200 200
GET    /api/v1/network/nodes/{node_id}                        401 200 200 200 200 200
GET    /api/v1/network/links                                  401 200 200 200 200 200
GET    /api/v1/network/links/{link_id}                        401 200 200 200 200 200
GET    /api/v1/network/services                               401 200 200 200 200 200
GET    /api/v1/network/corridors                              401 200 200 200 200 200
GET    /api/v1/network/geojson                                401 200 200 200 200 200
GET    /api/v1/network/modes                                  401 200 200 200 200 200
POST   /api/v1/routes                                         401 200 200 200 200 200
POST   /api/v1/routes/compare                                 401 200 200 200 200 200
POST   /api/v1/shipments                                      401 403 403 201 403 201
GET    /api/v1/shipments                                      401 200 200 200 200 200
GET    /api/v1/shipments/{shipment_id}                        401 404 200 404 200 200
POST   /api/v1/shipments/{shipment_id}/cancel                 401 404 403 404 403 200
GET    /api/v1/shipments/{shipment_id}/tracking               401 404 200 404 200 200
GET    /api/v1/customs/declarations                           401 200 200 200 200 200
POST   /api/v1/customs/declarations                           401 403 403 404 403 201
GET    /api/v1/customs/declarations/{declaration_id}          401 404 200 404 200 200
POST   /api/v1/customs/declarations/{declaration_id}/actions  401 404 403 404 403 200
POST   /api/v1/customs/declarations/{declaration_id}/amend    401 404 403 404 403 200
GET    /api/v1/customs/offices                                401 200 200 200 200 200
GET    /api/v1/customs/offices/{office_id}/expected           401 200 200 200 200 200
GET    /api/v1/customs/offices/{office_id}/kpis               401 200 200 200 200 200
GET    /api/v1/customs/declarations/{declaration_id}/log      401 404 200 404 200 200
GET    /api/v1/customs/log                                    401 403 200 403 200 403
GET    /api/v1/customs/log/verify                             401 403 200 403 200 403
GET    /api/v1/customs/log/head                               401 403 200 403 200 403
POST   /api/v1/customs/log/cosign                             401 403 404 403 403 403
POST   /api/v1/customs/declarations/batch                     401 403 403 404 403 201
POST   /api/v1/epcis/capture                                  401 202 202 422 202 202
GET    /api/v1/epcis/events                                   401 200 200 200 200 200
GET    /api/v1/epcis                                          401 200 200 200 200 200
GET    /api/v1/epcis/capture                                  401 200 200 200 200 200
GET    /api/v1/epcis/capture/{captureID}                      401 404 404 404 200 200
POST   /api/v1/epcis/events                                   401 201 201 422 201 201
GET    /api/v1/epcis/events/{eventID}                         401 404 200 404 200 200
GET    /api/v1/epcis/eventTypes                               401 200 200 200 200 200
GET    /api/v1/epcis/eventTypes/{value}                       401 200 200 200 200 200
GET    /api/v1/epcis/eventTypes/{value}/events                401 200 200 200 200 200
GET    /api/v1/epcis/epcs                                     401 200 200 200 200 200
GET    /api/v1/epcis/epcs/{value}                             401 200 200 200 200 200
GET    /api/v1/epcis/epcs/{value}/events                      401 200 200 200 200 200
GET    /api/v1/epcis/bizSteps                                 401 200 200 200 200 200
GET    /api/v1/epcis/bizSteps/{value}                         401 200 200 200 200 200
GET    /api/v1/epcis/bizSteps/{value}/events                  401 200 200 200 200 200
GET    /api/v1/epcis/bizLocations                             401 200 200 200 200 200
GET    /api/v1/epcis/bizLocations/{value}                     401 200 200 200 200 200
GET    /api/v1/epcis/bizLocations/{value}/events              401 200 200 200 200 200
GET    /api/v1/epcis/readPoints                               401 200 200 200 200 200
GET    /api/v1/epcis/readPoints/{value}                       401 200 200 200 200 200
GET    /api/v1/epcis/readPoints/{value}/events                401 200 200 200 200 200
GET    /api/v1/epcis/dispositions                             401 200 200 200 200 200
GET    /api/v1/epcis/dispositions/{value}                     401 200 200 200 200 200
GET    /api/v1/epcis/dispositions/{value}/events              401 200 200 200 200 200
GET    /api/v1/epcis/queries                                  401 200 200 200 200 200
POST   /api/v1/epcis/queries                                  401 201 201 201 201 201
GET    /api/v1/epcis/queries/{queryName}                      401 404 404 404 404 200
GET    /api/v1/epcis/queries/{queryName}/events               401 404 404 404 404 200
GET    /api/v1/epcis/queries/{queryName}/subscriptions        401 404 404 404 404 200
POST   /api/v1/epcis/queries/{queryName}/subscriptions        401 404 404 404 404 201
GET    /api/v1/epcis/queries/{queryName}/subscriptions/{subscriptionID} 401 404 404 404 404 200
DELETE /api/v1/epcis/queries/{queryName}/subscriptions/{subscriptionID} 401 404 404 404 404 204
DELETE /api/v1/epcis/queries/{queryName}                      401 404 404 404 404 204
GET    /api/v1/webhooks                                       401 200 200 200 200 200
POST   /api/v1/webhooks                                       401 201 201 201 201 201
GET    /api/v1/alerts                                         401 200 200 200 200 200
POST   /api/v1/admin/organisations                            401 403 403 403 201 403
GET    /api/v1/admin/users                                    401 403 403 403 200 403
POST   /api/v1/admin/users                                    401 403 403 403 201 403
POST   /api/v1/admin/users/{user_id}/disable                  401 403 403 403 200 403
POST   /api/v1/admin/users/{user_id}/enable                   401 403 403 403 200 403
GET    /api/v1/admin/users/{user_id}/tokens                   401 403 403 403 200 403
POST   /api/v1/admin/users/{user_id}/tokens                   401 403 403 403 201 403
GET    /api/v1/admin/organisations                            401 403 403 403 200 403
GET    /api/v1/jobs/{job_id}                                  401 404 404 404 200 200
GET    /api/v1/notices                                        200 200 200 200 200 200
POST   /api/v1/notices                                        401 403 403 403 201 403
GET    /api/v1/notices/feed.atom                              200 200 200 200 200 200
GET    /api/v1/notices/stream                                 200 200 200 200 200 200
GET    /api/v1/notices/{notice_id}                            200 200 200 200 200 200
GET    /api/v1/notices/{notice_id}/history                    200 200 200 200 200 200
GET    /api/v1/notices/{notice_id}/cap                        200 200 200 200 200 200
PUT    /api/v1/notices/{notice_id}                            401 403 403 403 200 403
POST   /api/v1/notices/{notice_id}/close                      401 403 403 403 200 403
PUT    /api/v1/organisations/{organisation_id}/operators      401 403 403 403 200 403
GET    /api/v1/notices/affected/shipments                     401 200 200 200 200 200
POST   /api/v1/notices/affected/shipments/{shipment_id}/rebook 401 404 404 404 403 201
GET    /api/v1/notices/kpis/{year}                            401 200 200 200 200 200
POST   /api/v1/notices/subscriptions                          401 201 201 201 201 201
GET    /api/v1/notices/subscriptions                          401 200 200 200 200 200
GET    /api/v1/notices/subscriptions/{subscription_id}/events 401 404 404 404 404 200
DELETE /api/v1/notices/subscriptions/{subscription_id}        401 404 404 404 404 204
GET    /api/v1/simulation/scenarios                           401 200 200 200 200 200
POST   /api/v1/simulation/runs                                401 202 202 202 202 202
GET    /api/v1/simulation/diff                                401 404 404 404 409 409
GET    /api/v1/energy/scenarios                               401 200 200 200 200 200
GET    /api/v1/energy/scenarios/{scenario}/assets             401 200 200 200 200 200
POST   /api/v1/energy/runs                                    401 202 202 202 202 202
POST   /api/v1/energy/n1                                      401 202 202 202 202 202
GET    /api/v1/energy/runs/{run}                              401 404 404 404 404 404
GET    /api/v1/energy/runs/{run}/flows                        401 404 404 404 404 404
GET    /api/v1/capacity/sailings                              401 200 200 200 200 200
GET    /api/v1/capacity/board                                 401 200 200 200 200 200
GET    /api/v1/capacity/stream                                401 200 200 200 200 200
GET    /api/v1/capacity/ports                                 401 200 200 200 200 200
GET    /api/v1/capacity/crossings                             401 200 200 200 200 200
POST   /api/v1/capacity/routes                                401 200 200 200 200 200
POST   /api/v1/capacity/bookings                              401 403 403 201 403 201
POST   /api/v1/capacity/itineraries                           401 403 403 201 403 201
GET    /api/v1/capacity/bookings                              401 200 200 200 200 200
GET    /api/v1/capacity/bookings/{booking_id}                 401 404 404 404 200 200
POST   /api/v1/capacity/bookings/{booking_id}/confirm         401 404 404 404 200 403
POST   /api/v1/capacity/bookings/{booking_id}/decline         401 404 404 404 200 403
POST   /api/v1/capacity/bookings/{booking_id}/move            401 404 404 404 200 403
POST   /api/v1/capacity/bookings/{booking_id}/cancel          401 404 404 404 403 200
POST   /api/v1/capacity/bookings/{booking_id}/load            401 404 404 404 200 403
POST   /api/v1/capacity/bookings/{booking_id}/unload          401 404 404 404 200 403
POST   /api/v1/capacity/sailings/{slot_id}/depart             401 403 403 403 200 403
POST   /api/v1/capacity/sweep                                 401 403 403 403 200 403
GET    /api/v1/queue/checkpoints                              401 200 200 200 200 200
GET    /api/v1/queue/checkpoints/{checkpoint}/hours           401 200 200 200 200 200
GET    /api/v1/queue/public-key                               200 200 200 200 200 200
POST   /api/v1/queue/verify                                   200 200 200 200 200 200
POST   /api/v1/queue/tickets                                  401 201 403 201 403 201
GET    /api/v1/queue/tickets                                  401 200 200 200 200 200
GET    /api/v1/queue/tickets/{ticket_id}                      401 404 200 404 200 200
GET    /api/v1/queue/tickets/{ticket_id}/qr.svg               401 404 200 404 200 200
GET    /api/v1/queue/tickets/{ticket_id}/qr.png               401 404 200 404 200 200
POST   /api/v1/queue/checkin                                  401 403 409 403 409 403
"""

#: Lists that answer 200 to everybody but must not show another forwarder the owner's resources.
LISTS = {
    "/api/v1/notices/affected/shipments",
    "/api/v1/notices/subscriptions",
    "/api/v1/shipments",
    "/api/v1/customs/declarations",
    "/api/v1/customs/offices/{office_id}/expected",
    "/api/v1/epcis/events",
    "/api/v1/alerts",
}

DECLARATION = declaration("LRN-MATRIX")
#: A route with ways round Aktau: rebooking offers the plans that avoid the storm's closure.
STORMED_ROUTE = {
    "origin": "xian",
    "destination": "duisburg",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 40,
}
#: A storm closes Aktau port for twelve days from the day the shipments are ready.
STORM = {
    "kind": "closure",
    "severity": "severe",
    "elements": [{"kind": "node", "id": "aktau_port"}],
    "starts_at": "2026-03-03T00:00:00+00:00",
    "expected_end": "2026-03-15T00:00:00+00:00",
    "texts": {"en": "Storm: port closed"},
}
EMAILS = {
    "owner": "forwarder@demo.corridor",
    "other": "other-forwarder@demo.corridor",
    "customs": "customs.az@demo.corridor",
    "admin": "admin@demo.corridor",
    "carrier": "ops@carrier.test",
}


def noop(params: dict[str, Any], progress: Any) -> dict[str, Any]:
    """A job for the matrix to look at; what it does does not matter."""
    return {}


register("matrix-noop", noop)


def expected() -> dict[tuple[str, str], dict[str, int]]:
    table: dict[tuple[str, str], dict[str, int]] = {}
    for line in MATRIX.strip().splitlines():
        method, path, *codes = line.split()
        assert len(codes) == len(ROLES), line
        table[method, path] = dict(zip(ROLES, map(int, codes), strict=True))
    return table


@dataclass
class World:
    """The owner's resources, the callers, and what each operation is called with."""

    client: TestClient
    passwords: dict[str, str]
    tokens: dict[str, str] = field(default_factory=dict)
    ids: dict[str, str] = field(default_factory=dict)
    counter: int = 0

    def headers(self, role: str, token: str | None = None) -> dict[str, str]:
        if role == "anonymous":
            return {}
        return {"Authorization": f"Bearer {token or self.tokens[role]}"}

    def version(self, key: str) -> int:
        """The current version of a notice (an amendment or closing names the one it changes)."""
        notice = self.client.get(f"/api/v1/notices/{self.ids[key]}").json()
        return int(notice["version"])

    def declaration_version(self) -> int:
        """The declaration's current version, read as its holder (an amendment names it)."""
        path = f"/api/v1/customs/declarations/{self.ids['declaration']}"
        return int(self.client.get(path, headers=self.headers("owner")).json()["version"])

    def unique(self) -> int:
        self.counter += 1
        return self.counter


def _issue(db, email: str) -> tuple[str, str]:
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == email))
        assert user is not None
        token = accounts.issue_token(s, user.id, "matrix", None)
        return token, user.id


def _body(world: World, method: str, path: str, role: str) -> Any:
    """The JSON body a well-formed request to the operation carries (None: no body)."""
    n = world.unique()
    if path.endswith("/auth/login"):
        email = EMAILS.get(role, "nobody@example.org")
        return {"email": email, "password": world.passwords.get(email, "not a password")}
    if path.endswith("/routes") or path.endswith("/routes/compare"):
        return ROUTE
    if path == "/api/v1/shipments":
        return {"reference": f"PO-{n}", "route": ROUTE}
    if path == "/api/v1/customs/declarations":
        return {"shipment_id": world.ids["undeclared"], "declaration": DECLARATION}
    if path.endswith("/declarations/batch"):
        item = {"shipment_id": world.ids["undeclared_batch"], "declaration": DECLARATION}
        return {"declarations": [item]}
    if path.endswith(("/energy/runs", "/energy/n1")):
        return {"scenario": "2025"}
    if path.endswith("/amend"):
        return {"version": world.declaration_version(), "declaration": DECLARATION}
    if path.endswith("/actions"):
        # amending is the holder's; customs names its office, which the endpoint requires first
        return {
            "action": "amend",
            "office_id": world.ids["office"],
            "details": {"body": DECLARATION},
        }
    if path.endswith("/epcis/capture"):
        plan = Itinerary.model_validate(world.ids["plan"])  # type: ignore[arg-type]
        events = events_for(plan, world.ids["shipment"], container_numbers(n, 1), noise_h=0, seed=n)
        return document(events[:1], plan.ready)
    if path == "/api/v1/epcis/events":
        plan = Itinerary.model_validate(world.ids["plan"])  # type: ignore[arg-type]
        events = events_for(plan, world.ids["shipment"], container_numbers(n, 1), noise_h=0, seed=n)
        return {**events[0], "@context": document([], plan.ready)["@context"]}
    if path == "/api/v1/epcis/queries":
        return {"name": f"matrix{n}", "query": {"EQ_bizStep": "departing"}}
    if path.endswith("/epcis/queries/{queryName}/subscriptions") and method == "POST":
        return {}
    if path.endswith("/webhooks"):
        return {"url": f"https://hooks.example.com/corridor/{n}"}
    if path == "/api/v1/notices":
        return STORM
    if path == "/api/v1/notices/{notice_id}":
        return {"version": world.version("notice"), "notice": STORM}
    if path.endswith("/close"):
        return {"version": world.version("closable")}
    if path.endswith("/rebook"):
        return {"option": 0}
    if path.endswith("/notices/subscriptions"):
        return {"filter": {}} if method == "POST" else None
    if path.endswith("/operators"):
        return {"operators": ["China Railway"]}
    if path == "/api/v1/capacity/bookings":
        return {**world.ids["sailing"], "cargo": "rail_wagon", "items": 1}  # type: ignore[dict-item]
    if path == "/api/v1/capacity/itineraries":
        return {"reference": f"CAP-{n}", "route": ROUTE}
    if path.endswith("/move"):
        return {"departure": world.ids["move_to"]}
    if path == "/api/v1/queue/tickets":
        return {**world.ids["truck"], "plate": f"{n:03d} MTX 02"}  # type: ignore[dict-item]
    if path in ("/api/v1/queue/verify", "/api/v1/queue/checkin"):
        return {"ticket": world.ids["ticket_token"]}
    if path.endswith("/simulation/runs"):
        return {"scenario": world.ids["scenario"]}
    if path.endswith("/admin/organisations"):
        return {"name": f"Matrix org {n}", "kind": "forwarder"}
    if path.endswith("/users/{user_id}/tokens"):
        return {"name": f"matrix token {n}"}
    if path.endswith("/admin/users"):
        return {
            "organisation_id": world.ids["organisation"],
            "email": f"user{n}@matrix.test",
            "name": "Matrix user",
            "password": "a long enough password",
        }
    assert method in ("GET", "DELETE") or path.endswith(
        (
            "/cancel",
            "/revoke",
            "/disable",
            "/enable",
            "/logout",
            "/cosign",
            "/confirm",
            "/decline",
            "/sweep",
            "/load",
            "/unload",
            "/depart",
        )
    ), path
    return None


def _path(world: World, template: str) -> str:
    values = {
        "token_id": world.ids["spare_token"],
        "node_id": "aktau_port",
        "link_id": world.ids["link"],
        "shipment_id": world.ids["shipment"],
        "declaration_id": world.ids["declaration"],
        "office_id": world.ids["office"],
        "user_id": world.ids["victim"],
        "job_id": world.ids["job"],
        "notice_id": world.ids["notice"],
        "organisation_id": world.ids["carrier_org"],
        "subscription_id": world.ids["subscription"],
        "scenario": "2025",
        "captureID": world.ids["capture"],
        "eventID": world.ids["event"],
        "value": "departing",
        "queryName": "matrix",
        "subscriptionID": world.ids["epcis_subscription"],
        "run": "2025",
        "year": "2026",
        "booking_id": world.ids.get("booking", ""),
        "ticket_id": world.ids.get("ticket", ""),
        "checkpoint": "x-khorgos",
    }
    if "{slot_id}" in template:
        from urllib.parse import quote

        values["slot_id"] = quote(str(world.ids["sailing_key"]), safe="")
    for action in ("confirm", "decline", "move", "cancel", "load", "unload"):
        if template.endswith(f"/{action}") and "{booking_id}" in template:
            values["booking_id"] = world.ids[f"booking_{action}"]
    if template.endswith("/cancel"):
        values["shipment_id"] = world.ids["cancellable"]
    if template.endswith("/close"):
        values["notice_id"] = world.ids["closable"]
    if template.endswith("/rebook"):
        values["shipment_id"] = world.ids["rebookable"]
    query = {
        "/api/v1/notices/stream": "?after=0&max_events=1&max_seconds=5",
        "/api/v1/simulation/diff": f"?a={world.ids['run_a']}&b={world.ids['run_b']}",
        "/api/v1/capacity/stream": "?once=true",
        "/api/v1/queue/checkpoints/{checkpoint}/hours": f"?date={world.ids.get('truck_date', '')}",
    }.get(template, "")
    return template.format(**values) + query


@pytest.fixture
def world(seeded, tmp_path, monkeypatch):
    monkeypatch.setattr(accounts, "_hasher", argon2.PasswordHasher(1, 8, 1))
    monkeypatch.setattr(accounts, "_dummy_hash", None)
    db = seeded.db
    passwords = seeded.passwords
    with db.session() as s:
        carrier = accounts.create_organisation(s, "Matrix Rail (test)", "carrier")
        accounts.create_user(s, carrier.id, EMAILS["carrier"], "Ops", "carrier password")
        owner_org = s.scalar(select(User).where(User.email == EMAILS["owner"])).organisation_id
        victim = accounts.create_user(s, owner_org, "victim@matrix.test", "V", "victim password")
    passwords[EMAILS["carrier"]] = "carrier password"
    # No job consumer: jobs stay queued (a simulation run is not what this test is about).
    settings = Settings(var_dir=tmp_path / "var", login_max_per_address=1000, jobs_threads=0)
    app = create_app(settings, db)
    with TestClient(app, raise_server_exceptions=False) as client:
        w = World(client, passwords)
        for role, email in EMAILS.items():
            w.tokens[role], _ = _issue(db, email)
        w.ids["spare_token"] = ""
        owner = w.headers("owner")

        def book(reference: str, route: dict[str, Any] = ROUTE) -> dict[str, Any]:
            answer = client.post(
                "/api/v1/shipments", json={"reference": reference, "route": route}, headers=owner
            )
            assert answer.status_code == 201, answer.text
            return dict(answer.json())

        shipment = book("MATRIX-1")
        w.ids["shipment"] = shipment["id"]
        w.ids["plan"] = shipment["itinerary"]
        plan = Itinerary.model_validate(shipment["itinerary"])
        owned = events_for(plan, shipment["id"], container_numbers(900, 1), noise_h=0, seed=900)[:2]
        captured = client.post(
            "/api/v1/epcis/capture", json=document(owned, plan.ready), headers=owner
        )
        assert captured.status_code == 202, captured.text
        w.ids["capture"] = captured.json()["captureID"]
        w.ids["event"] = owned[0]["eventID"]
        named = client.post(
            "/api/v1/epcis/queries", json={"name": "matrix", "query": {}}, headers=owner
        )
        assert named.status_code == 201, named.text
        sub = client.post("/api/v1/epcis/queries/matrix/subscriptions", json={}, headers=owner)
        assert sub.status_code == 201, sub.text
        w.ids["epcis_subscription"] = sub.json()["subscriptionID"]
        w.ids["undeclared"] = book("MATRIX-2")["id"]
        w.ids["undeclared_batch"] = book("MATRIX-5")["id"]
        w.ids["cancellable"] = book("MATRIX-3")["id"]
        w.ids["rebookable"] = book("MATRIX-4", STORMED_ROUTE)["id"]
        admin = w.headers("admin")
        for key in ("notice", "closable"):
            published = client.post("/api/v1/notices", json=STORM, headers=admin)
            assert published.status_code == 201, published.text
            w.ids[key] = published.json()["id"]
        subscribed = client.post("/api/v1/notices/subscriptions", json={}, headers=owner)
        assert subscribed.status_code == 201, subscribed.text
        w.ids["subscription"] = subscribed.json()["id"]
        w.ids["scenario"] = scenario_names()[0]
        run = {"scenario": w.ids["scenario"], "replications": 1, "seed": 1}
        w.ids["run_a"] = app.state.jobs.submit("simulation", run, owner_org).id
        w.ids["run_b"] = app.state.jobs.submit("simulation", run, owner_org).id
        w.ids["carrier_org"] = carrier.id
        declaration = client.post(
            "/api/v1/customs/declarations",
            json={"shipment_id": shipment["id"], "declaration": DECLARATION},
            headers=owner,
        )
        assert declaration.status_code == 201, declaration.text
        w.ids["declaration"] = declaration.json()["id"]
        offices = declaration.json()["offices"]
        w.ids["office"] = next(o["id"] for o in offices if o["country"] == "AZ")
        w.ids["link"] = "chengdu-xian"
        w.ids["organisation"] = owner_org
        w.ids["victim"] = victim.id
        w.ids["job"] = app.state.jobs.submit("matrix-noop", {}, owner_org).id
        _capacity_resources(w, client, owner)
        _issue(db, EMAILS["owner"])
        w.ids["spare_token"] = _spare_token_id(client, owner)
        yield w


def _capacity_resources(w: World, client: TestClient, owner: dict[str, str]) -> None:
    """The owner's capacity bookings (one per carrier action) and an e-queue ticket."""
    from datetime import UTC, datetime, timedelta

    ferries = client.get(
        "/api/v1/capacity/sailings",
        params={"service": "asco-aktau-alat-ferry", "from_node": "aktau_port", "days": 21},
        headers=owner,
    ).json()
    ferries = [f for f in ferries if f["capacity"] == 52]
    sailing = {k: ferries[0][k] for k in ("service", "from_node", "departure")}
    w.ids["sailing"] = sailing  # type: ignore[assignment]
    w.ids["sailing_key"] = ferries[0]["key"]
    w.ids["move_to"] = ferries[1]["departure"]
    keys = ("booking", "booking_confirm", "booking_decline", "booking_move", "booking_cancel")
    for key in (*keys, "booking_load", "booking_unload"):
        made = client.post(
            "/api/v1/capacity/bookings",
            json={**sailing, "cargo": "rail_wagon", "items": 1},
            headers=owner,
        )
        assert made.status_code == 201, made.text
        w.ids[key] = made.json()["id"]
    # Only a confirmed booking is loaded: the ferry line's decision, here the administrator's.
    confirmed = client.post(
        f"/api/v1/capacity/bookings/{w.ids['booking_load']}/confirm", headers=w.headers("admin")
    )
    assert confirmed.status_code == 200, confirmed.text
    # Only a loaded booking is unloaded: confirmed and loaded by the line (the administrator).
    for step in ("confirm", "load"):
        done = client.post(
            f"/api/v1/capacity/bookings/{w.ids['booking_unload']}/{step}",
            headers=w.headers("admin"),
        )
        assert done.status_code == 200, done.text
    day = (datetime.now(UTC) + timedelta(days=1)).date().isoformat()
    w.ids["truck_date"] = day
    truck = {"checkpoint": "x-khorgos", "date": day, "hour": 10, "driver": "M. Driver"}
    w.ids["truck"] = truck  # type: ignore[assignment]
    ticket = client.post(
        "/api/v1/queue/tickets", json={**truck, "plate": "000 MTX 01"}, headers=owner
    )
    assert ticket.status_code == 201, ticket.text
    w.ids["ticket"] = ticket.json()["id"]
    w.ids["ticket_token"] = ticket.json()["token"]


def _spare_token_id(client: TestClient, owner: dict[str, str]) -> str:
    """A second token of the owner: others try to revoke it; the owner's own stays usable."""
    tokens = client.get("/api/v1/auth/tokens", headers=owner).json()
    spare = next(t for t in tokens if not t["current"])
    return str(spare["id"])


def test_every_operation_and_role_answers_as_the_matrix_says(world, seeded):
    db = seeded.db
    table = expected()
    schema = world.client.get("/api/v1/openapi.json").json()
    operations = {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in {"get", "post", "put", "patch", "delete"}
    }
    assert operations == set(table), (
        f"not in the matrix: {sorted(operations - set(table))}; "
        f"no longer in the API: {sorted(set(table) - operations)}"
    )
    wrong: list[str] = []
    for (method, template), codes in table.items():
        for role in ROLES:
            token = None
            if template.endswith("/logout") and role != "anonymous":
                token, _ = _issue(db, EMAILS[role])  # logging out spends a token of its own
            response = world.client.request(
                method,
                _path(world, template),
                json=_body(world, method, template, role),
                headers=world.headers(role, token),
            )
            if (
                response.status_code == 200
                and role == "other"
                and template in LISTS
                and world.ids["shipment"] in response.text
            ):
                wrong.append(f"{method} {template} as {role}: lists the owner's shipment")
            if response.status_code != codes[role]:
                wrong.append(
                    f"{method} {template} as {role}: {response.status_code}, "
                    f"expected {codes[role]} ({response.text[:120]})"
                )
    assert wrong == [], "\n".join(wrong)


def test_the_matrix_is_consistent_with_the_documented_rules():
    """Properties of the table itself, so that a wrong cell cannot hide behind a wrong code."""
    table = expected()
    # Public: liveness and readiness, and disruption notices, which are announcements (docs/disruptions.md).
    public = {
        "/api/v1/health",
        "/api/v1/health/ready",
        "/api/v1/notices",
        "/api/v1/notices/feed.atom",
        "/api/v1/notices/stream",
        "/api/v1/notices/{notice_id}",
        "/api/v1/notices/{notice_id}/history",
        "/api/v1/notices/{notice_id}/cap",
        # E-queue tickets are verified at a checkpoint with no account (docs/capacity.md).
        "/api/v1/queue/public-key",
    }
    for (method, path), codes in table.items():
        if (method == "GET" and path in public) or (method, path) == (
            "POST",
            "/api/v1/queue/verify",
        ):
            assert set(codes.values()) == {200}, path
        elif not path.endswith("/auth/login"):
            assert codes["anonymous"] == 401, path
        if path.startswith("/api/v1/admin/"):
            assert [r for r, c in codes.items() if c < 400] == ["admin"], path
    for path in (
        "/api/v1/shipments/{shipment_id}",
        "/api/v1/customs/declarations/{declaration_id}",
    ):
        assert table["GET", path]["other"] == 404  # foreign resources look like missing ones
    assert table["POST", "/api/v1/shipments"]["admin"] == 403  # docs/service.md: admin reads
    assert table["POST", "/api/v1/shipments/{shipment_id}/cancel"]["admin"] == 403
