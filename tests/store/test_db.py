"""The database layer's concurrency guarantees, below the API.

Read-modify-write without a conditional UPDATE is exactly what loses updates; on SQLite a write
session serialises it (BEGIN IMMEDIATE), which the driver's default deferred transaction does
not: there the second writer fails with "database is locked" (issue 9: 16 of 50 bookings).
"""

from __future__ import annotations

import sqlite3
import threading
from concurrent.futures import ThreadPoolExecutor

import pytest
from sqlalchemy import select, text
from sqlalchemy.exc import OperationalError

from corridor.store import migrate
from corridor.store.db import Database, retryable, unavailable
from corridor.store.models import Meta

WRITERS = 20


def _count(db: Database) -> int:
    with db.session() as s:
        row = s.get(Meta, "counter")
        return int(row.value) if row else 0


def test_sqlite_write_sessions_serialise_read_modify_write(db, dialect):
    if dialect != "sqlite":
        pytest.skip("BEGIN IMMEDIATE is SQLite's; PostgreSQL writers use conditional updates")
    migrate.upgrade(db)
    with db.session(write=True) as s:
        s.add(Meta(key="counter", value="0"))
    gate = threading.Barrier(WRITERS)

    def increment(_: int) -> None:
        gate.wait()
        with db.write_session() as s:
            row = s.scalar(select(Meta).where(Meta.key == "counter"))
            assert row is not None
            row.value = str(int(row.value) + 1)

    with ThreadPoolExecutor(WRITERS) as pool:
        list(pool.map(increment, range(WRITERS)))
    assert _count(db) == WRITERS  # none lost, none failed


def test_a_held_sqlite_lock_is_retryable_and_run_retries_until_it_is_free(db, dialect, tmp_path):
    if dialect != "sqlite":
        pytest.skip("SQLite's write lock")
    migrate.upgrade(db)
    quick = Database(db.url, sqlite_busy_timeout_ms=10)
    holder = sqlite3.connect(db.url.split("///", 1)[1], isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    with pytest.raises(OperationalError) as caught, quick.write_session() as s:
        s.add(Meta(key="k", value="v"))
    assert retryable(caught.value)
    assert unavailable(caught.value)
    attempts = []

    def work(s) -> None:
        attempts.append(1)
        if len(attempts) == 2:  # the lock goes away while the first attempt backs off
            holder.execute("ROLLBACK")
        s.add(Meta(key="k", value="v"))
        s.flush()

    quick.run(work, retries=3)
    assert len(attempts) >= 2
    with db.session() as s:
        assert s.get(Meta, "k") is not None
    holder.close()
    quick.dispose()


def test_postgresql_connections_carry_statement_and_idle_timeouts(db, dialect):
    if dialect != "postgresql":
        pytest.skip("PostgreSQL settings")
    with db.session() as s:
        assert s.scalar(text("SHOW statement_timeout")) == "15s"
        assert s.scalar(text("SHOW idle_in_transaction_session_timeout")) == "10s"
    strict = Database(db.url, pg_statement_timeout_ms=50)
    with pytest.raises(OperationalError) as caught, strict.session() as s:
        s.execute(text("SELECT pg_sleep(5)"))
    assert unavailable(caught.value)  # a 503, ...
    assert not retryable(caught.value)  # ... but not run again at once: it would time out again
    strict.dispose()
