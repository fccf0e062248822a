"""A fresh database: migrated, with the corridor network and a demo to log in to."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import func, select

from corridor.store import migrate
from corridor.store.accounts import create_organisation, create_user
from corridor.store.db import Database
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
    ("State Customs Committee of Azerbaijan (demo)", "customs", "AZ", "customs.az@demo.corridor"),
    ("Corridor coordination office (demo)", "admin", None, "admin@demo.corridor"),
)


def prepare(db: Database, network_dir: Path, demo: bool = True) -> list[DemoLogin]:
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
                created.append(DemoLogin(name, email, password))
    return created
