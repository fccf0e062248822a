from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import inspect

from corridor.store import migrate
from corridor.store.models import Base

TABLES = {
    "organisations",
    "users",
    "api_tokens",
    "network_records",
    "meta",
    "shipments",
    "customs_declarations",
    "customs_keys",
    "customs_log_head",
    "customs_log",
    "epcis_events",
    "epcis_epcs",
    "webhooks",
    "tracking_alerts",
    "jobs",
}


def test_upgrade_from_empty_matches_the_models_and_downgrades_to_empty(db):
    assert migrate.current(db) is None
    migrate.upgrade(db)
    assert migrate.current(db) == migrate.head()
    assert set(inspect(db.engine).get_table_names()) >= TABLES
    with db.engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], diff
    migrate.downgrade(db)
    assert migrate.current(db) is None
    assert not TABLES & set(inspect(db.engine).get_table_names())


def test_upgrade_twice_is_harmless(db):
    migrate.upgrade(db)
    migrate.upgrade(db)
    assert migrate.current(db) == migrate.head()


def test_sqlite_runs_in_wal_mode_with_foreign_keys(tmp_path):
    from sqlalchemy import text

    from corridor.store.db import Database

    database = Database(f"sqlite:///{tmp_path / 'x.db'}")
    with database.engine.connect() as conn:
        assert conn.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert conn.execute(text("PRAGMA foreign_keys")).scalar() == 1
    database.dispose()
