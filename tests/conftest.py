from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from corridor.network import Network, load_network
from corridor.settings import PACKAGE_DATA_DIR


@pytest.fixture(scope="session")
def network() -> Network:
    """The shipped corridor network, loaded once."""
    return load_network(PACKAGE_DATA_DIR)


@pytest.fixture
def dataset_dir(tmp_path: Path) -> Path:
    """A private, editable copy of the shipped dataset."""
    target = tmp_path / "data"
    shutil.copytree(PACKAGE_DATA_DIR, target, ignore=shutil.ignore_patterns("__pycache__"))
    return target


# -- databases: every store and API test runs on SQLite and on PostgreSQL ---------------------
import os  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402

from corridor.store.db import Database  # noqa: E402

#: Server for the PostgreSQL runs (a database is created per test and dropped after).
PG_URL = os.environ.get(
    "CORRIDOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _postgres(name: str) -> Database:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"'))
    except OperationalError as exc:
        reason = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string(hide_password=True)}: {exc.orig}"
        if os.environ.get("CORRIDOR_REQUIRE_POSTGRES"):
            pytest.fail(f"{reason} (CORRIDOR_REQUIRE_POSTGRES is set, as in CI)")
        pytest.skip(reason)
    finally:
        admin.dispose()
    return Database(make_url(PG_URL).set(database=name).render_as_string(hide_password=False))


def _drop_postgres(name: str) -> None:
    admin = create_engine(PG_URL, isolation_level="AUTOCOMMIT")
    with admin.connect() as conn:
        conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    admin.dispose()


@pytest.fixture(params=["sqlite", "postgresql"])
def db(request, tmp_path) -> Iterator[Database]:
    """An empty database of each kind."""
    if request.param == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'corridor.db'}")
        yield database
        database.dispose()
        return
    name = f"corridor_test_{uuid.uuid4().hex[:12]}"
    database = _postgres(name)
    try:
        yield database
    finally:
        database.dispose()
        _drop_postgres(name)
