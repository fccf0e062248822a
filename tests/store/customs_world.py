"""A small customs world for store tests: a forwarder, three authorities, booked shipments.

Built straight on the store (no HTTP, no password hashing), so that a test costs a migration
and a few inserts. The itinerary Dostyk - Aktau - Baku - Tbilisi is planned once per session.
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from pathlib import Path

from corridor.api.routes import plan, query_json
from corridor.api.schemas import RouteRequest
from corridor.customs.examples import example_declaration
from corridor.customs.lifecycle import Action
from corridor.customs.risk import load_profiles
from corridor.network import Network
from corridor.routing import Itinerary
from corridor.settings import PACKAGE_DATA_DIR
from corridor.store import customs, migrate, shipments
from corridor.store.accounts import Principal, create_organisation, now
from corridor.store.db import Database
from corridor.store.models import CustomsDeclaration, OrgKind, User

ROUTE = {
    "origin": "dostyk",
    "destination": "tbilisi",
    "ready": "2026-03-03T08:00:00Z",
    "containers": 1,
    "via": ["aktau_port"],
    "best": "time",
}
PROFILES = load_profiles(PACKAGE_DATA_DIR / "customs_risk_profiles.csv")


_PLANNED: dict[int, tuple[Network, dict[str, object], Itinerary]] = {}


def planned(network: Network) -> tuple[dict[str, object], Itinerary]:
    """The itinerary of ROUTE, planned once per network and test process (modules share it)."""
    if id(network) not in _PLANNED:
        query, options = plan(network, RouteRequest.model_validate(ROUTE))
        _PLANNED[id(network)] = (network, query_json(query), options[0])
    _, query, itinerary = _PLANNED[id(network)]
    return copy.deepcopy(query), itinerary


@dataclass
class World:
    db: Database
    network: Network
    keys_dir: Path
    forwarder: Principal
    officers: dict[str, Principal]
    query: dict[str, object]
    itinerary: Itinerary

    def book(self, n: int = 1) -> list[str]:
        with self.db.write_session() as s:
            return [
                shipments.create(
                    s, self.forwarder, self.network, f"PO-{i}", self.query, self.itinerary
                ).id
                for i in range(n)
            ]

    def declare(self, shipment_id: str, lrn: str = "LRN-1") -> CustomsDeclaration:
        with self.db.write_session() as s:
            body = customs.DeclarationBody.model_validate(example_declaration(lrn))
            return customs.create(
                s, self.forwarder, self.network, self.keys_dir, PROFILES, shipment_id, body, True
            )

    def act(
        self,
        decl: str,
        country: str | None,
        action: Action,
        office: str | None = None,
        **details: object,
    ) -> CustomsDeclaration:
        who = self.forwarder if country is None else self.officers[country]
        with self.db.write_session() as s:
            return customs.act(s, who, self.keys_dir, PROFILES, decl, action, office, dict(details))


def _principal(org_id: str, kind: OrgKind, country: str | None) -> Principal:
    return Principal(f"u-{org_id}", f"{org_id}@test", "Test", org_id, org_id, kind, country, "t")


def build(
    db: Database, network: Network, tmp_path: Path, query: dict[str, object], itinerary: Itinerary
) -> World:
    migrate.upgrade(db)
    with db.write_session() as s:
        fwd = create_organisation(s, "Silk Way Forwarding", "forwarder")
        s.add(
            User(
                id=f"u-{fwd.id}",
                organisation_id=fwd.id,
                email="fwd@test",
                name="Forwarder",
                password_hash=None,
                created_at=now(),
            )
        )
        officers = {}
        for country in ("KZ", "AZ", "GE"):
            org = create_organisation(
                s, f"Customs {country} {uuid.uuid4().hex[:4]}", "customs", country
            )
            officers[country] = _principal(org.id, OrgKind.CUSTOMS, country)
        forwarder = _principal(fwd.id, OrgKind.FORWARDER, None)
    return World(db, network, tmp_path / "keys", forwarder, officers, query, itinerary)


def walk(world: World, decl: CustomsDeclaration, steps: int | None = None) -> None:
    """Accept, release and move a declaration office by office (``steps`` actions, or all)."""
    ids = [stop["office"]["id"] for stop in decl.offices["stops"]]
    countries = [stop["office"]["country"] for stop in decl.offices["stops"]]
    plan_ = [(Action.ACCEPT, 0), (Action.RELEASE, 0)]
    for i in range(1, len(ids)):
        plan_.append((Action.ARRIVE, i))
        plan_.append((Action.DISCHARGE if i == len(ids) - 1 else Action.PASS, i))
    for action, i in plan_[:steps]:
        world.act(decl.id, countries[i], action, ids[i])
