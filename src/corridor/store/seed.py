"""A fresh database: migrated, with the corridor network and a demo to log in to."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from corridor.store import migrate
from corridor.store.accounts import Principal, create_organisation, create_user
from corridor.store.db import Database
from corridor.store.disruptions import set_operators
from corridor.store.models import User
from corridor.store.network import import_network


@dataclass(frozen=True)
class DemoLogin:
    organisation: str
    email: str
    password: str


DEMO_ACCOUNTS = (
    ("Silk Way Forwarding (demo)", "forwarder", None, "forwarder@demo.corridor"),
    ("Caspian Logistics (demo)", "forwarder", None, "other-forwarder@demo.corridor"),
    (
        "General Administration of Customs of China (demo)",
        "customs",
        "CN",
        "customs.cn@demo.corridor",
    ),
    (
        "State Revenue Committee of Kazakhstan, customs (demo)",
        "customs",
        "KZ",
        "customs.kz@demo.corridor",
    ),
    ("State Customs Committee of Azerbaijan (demo)", "customs", "AZ", "customs.az@demo.corridor"),
    ("Revenue Service of Georgia, customs (demo)", "customs", "GE", "customs.ge@demo.corridor"),
    ("Ministry of Trade of Turkiye, customs (demo)", "customs", "TR", "customs.tr@demo.corridor"),
    ("Corridor coordination office (demo)", "admin", None, "admin@demo.corridor"),
    ("Aktau International Sea Trade Port (demo)", "carrier", None, "port.aktau@demo.corridor"),
    ("ASCO Caspian ferries (demo)", "carrier", None, "ferry.asco@demo.corridor"),
    ("Kazakhstan Temir Zholy railway (demo)", "carrier", None, "rail.ktz@demo.corridor"),
)
#: The operator names (as in the network dataset) that the demo carriers run as.
DEMO_OPERATORS = {
    "port.aktau@demo.corridor": ("Aktau International Sea Trade Port",),
    "ferry.asco@demo.corridor": ("ASCO", "Kazmortransflot / ASCO"),
    "rail.ktz@demo.corridor": ("KTZ",),
}
#: The booked, not yet departed, shipment that one declaration takes from Xi'an to Istanbul
#: through the customs of every country on the demo route (CN, KZ, AZ, GE, TR).
DEMO_DECLARABLE = "DEMO-ISTANBUL-1"


def prepare(
    db: Database, network_dir: Path, demo: bool = True, demo_shipment: bool = True
) -> list[DemoLogin]:
    """Migrate, import the network if it changed, and seed demo accounts into an empty database.

    Returns the demo logins created now (empty when the database already had users), so that
    the caller can print the passwords once.
    """
    migrate.upgrade(db)
    created: list[DemoLogin] = []
    with db.session() as session:
        import_network(session, network_dir)
        if demo and not session.scalar(select(func.count()).select_from(User)):
            for name, kind, country, email in DEMO_ACCOUNTS:
                org = create_organisation(session, name, kind, country)
                password = secrets.token_urlsafe(12)
                create_user(session, org.id, email, "Demo user", password)
                if email in DEMO_OPERATORS:
                    set_operators(session, org.id, DEMO_OPERATORS[email])
                created.append(DemoLogin(name, email, password))
        if created and demo_shipment:
            _demo_shipment(session, network_dir)
            _declarable_shipment(session, network_dir)
    return created


def _forwarder(session: Session) -> Principal:
    from corridor.store.models import Organisation, OrgKind

    user = session.scalar(select(User).where(User.email == DEMO_ACCOUNTS[0][3]))
    assert user is not None
    org = session.get(Organisation, user.organisation_id)
    assert org is not None
    return Principal(
        user.id, user.email, user.name, org.id, org.name, OrgKind(org.kind), None, "seed"
    )


def _declarable_shipment(session: Session, network_dir: Path) -> None:
    """Xi'an to Istanbul over the Caspian, ready in two days: the forwarder lodges its declaration
    from the shipment page, then each customs authority on the route acts in turn."""
    from datetime import UTC, datetime, timedelta

    from corridor.routing import Cargo, best, make_query, planner_for
    from corridor.store import shipments
    from corridor.store.network import load_stored_network

    network = load_stored_network(session, network_dir)
    corridor = network.corridors["middle-aktau-btk"]
    ready = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) + timedelta(days=2)
    query = make_query(
        network,
        origin="xian",
        destination="halkali",
        ready=ready,
        cargo=Cargo(containers=1),
        via=corridor.via,
        avoid_countries=frozenset(corridor.avoid_countries),
    )
    plan = best(planner_for(network, query), query)
    data = query.model_dump(mode="json")
    data["cargo"]["teu"] = query.cargo.teu
    shipments.create(session, _forwarder(session), network, DEMO_DECLARABLE, data, plan)


def _demo_shipment(session: Session, network_dir: Path) -> None:
    """A demo shipment under way, with the EPCIS events of its first days and a delay at the Caspian."""
    from datetime import UTC, datetime, timedelta

    from corridor.routing import Cargo, best, make_query, planner_for, with_corridor
    from corridor.store import shipments, tracking
    from corridor.store.network import load_stored_network
    from corridor.tracking.generator import container_numbers, document, events_for

    network = load_stored_network(session, network_dir)
    who = _forwarder(session)
    ready = datetime.now(UTC).replace(minute=0, second=0, microsecond=0) - timedelta(days=13)
    corridor = network.corridors["middle-aktau-btk"]
    query = with_corridor(
        make_query(
            network, origin="xian", destination="duisburg", ready=ready, cargo=Cargo(containers=4)
        ),
        corridor,
    )
    plan = best(planner_for(network, query), query)
    data = query.model_dump(mode="json")
    data["cargo"]["teu"] = query.cargo.teu
    row = shipments.create(session, who, network, "DEMO-CASPIAN-1", data, plan)
    ferry = next((i for i, leg in enumerate(plan.legs) if leg.mode == "ferry"), None)
    events = events_for(
        plan,
        row.id,
        container_numbers(42, 4),
        until=datetime.now(UTC),
        delay_leg=ferry,
        delay_h=72.0,
        seed=42,
    )
    if events:
        result = tracking.capture(session, who, network, document(events, datetime.now(UTC)))
        tracking.evaluate_alerts(session, network, result.shipments)
