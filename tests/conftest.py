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
#
# Speed without cheating: Argon2 runs at a low cost (the cost is a setting; production keeps RFC
# 9106's), and the migrated, seeded database is built once per test session as a template that
# each test copies (SQLite: a file copy; PostgreSQL: CREATE DATABASE ... TEMPLATE). Databases
# are dropped on a background thread so that no test waits for PostgreSQL's slow DROP DATABASE.
import os  # noqa: E402
import queue  # noqa: E402
import threading  # noqa: E402
import uuid  # noqa: E402
from collections.abc import Iterator  # noqa: E402
from dataclasses import dataclass  # noqa: E402

from sqlalchemy import create_engine, text  # noqa: E402
from sqlalchemy.engine import make_url  # noqa: E402
from sqlalchemy.exc import OperationalError  # noqa: E402
from sqlalchemy.pool import NullPool  # noqa: E402

os.environ.setdefault("CORRIDOR_ARGON2_TIME_COST", "1")
os.environ.setdefault("CORRIDOR_ARGON2_MEMORY_KIB", "8")

from corridor.store.accounts import set_password_cost  # noqa: E402
from corridor.store.db import Database  # noqa: E402
from corridor.store.seed import DemoLogin, prepare  # noqa: E402

set_password_cost(
    int(os.environ["CORRIDOR_ARGON2_TIME_COST"]), int(os.environ["CORRIDOR_ARGON2_MEMORY_KIB"])
)

#: Server for the PostgreSQL runs (a database is created per test and dropped after).
PG_URL = os.environ.get(
    "CORRIDOR_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/postgres"
)


def _pg_admin():
    return create_engine(PG_URL, isolation_level="AUTOCOMMIT")


def _pg_url(name: str) -> str:
    return make_url(PG_URL).set(database=name).render_as_string(hide_password=False)


def _create_postgres(name: str, template: str | None = None) -> Database:
    admin = _pg_admin()
    # WAL_LOG copies a small template in a fraction of FILE_COPY's time (no checkpoint).
    clause = f' TEMPLATE "{template}" STRATEGY WAL_LOG' if template else ""
    try:
        with admin.connect() as conn:
            conn.execute(text(f'CREATE DATABASE "{name}"{clause}'))
    except OperationalError as exc:
        reason = f"PostgreSQL not reachable at {make_url(PG_URL).render_as_string(hide_password=True)}: {exc.orig}"
        if os.environ.get("CORRIDOR_REQUIRE_POSTGRES"):
            pytest.fail(f"{reason} (CORRIDOR_REQUIRE_POSTGRES is set, as in CI)")
        pytest.skip(reason)
    finally:
        admin.dispose()
    return Database(_pg_url(name))


class _Dropper:
    """Drops PostgreSQL test databases on one background thread; joined at the end of the run."""

    def __init__(self) -> None:
        self.names: queue.Queue[str | None] = queue.Queue()
        self.thread = threading.Thread(target=self._run, name="drop-test-databases", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        admin = _pg_admin()
        while (name := self.names.get()) is not None:
            with admin.connect() as conn:
                conn.execute(text(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
        admin.dispose()

    def close(self) -> None:
        self.names.put(None)
        self.thread.join()


@pytest.fixture(scope="session")
def _dropper() -> Iterator[_Dropper]:
    dropper = _Dropper()
    yield dropper
    dropper.close()


@dataclass(frozen=True)
class Template:
    """A migrated database with the network and the demo accounts (no demo shipment)."""

    dialect: str
    location: str  # SQLite file path or PostgreSQL database name
    logins: tuple[DemoLogin, ...]


@pytest.fixture(scope="session")
def _sqlite_template(tmp_path_factory) -> Template:
    path = tmp_path_factory.mktemp("template") / "corridor.db"
    database = Database(f"sqlite:///{path}")
    logins = prepare(database, PACKAGE_DATA_DIR, demo_shipment=False)
    with database.engine.connect() as conn:  # everything into the main file, none left in -wal
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    database.dispose()
    return Template("sqlite", str(path), tuple(logins))


#: Schema inside each seeded PostgreSQL database that keeps the seed rows for a fast reset.
PRISTINE = "corridor_pristine"


def _public_tables(conn, schema: str = "public") -> list[str]:
    rows = conn.exec_driver_sql("SELECT tablename FROM pg_tables WHERE schemaname = %s", (schema,))
    return [name for (name,) in rows]


def _keep_pristine(database: Database) -> None:
    """Copy every table of the freshly seeded template into the PRISTINE schema."""
    with database.engine.begin() as conn:
        conn.exec_driver_sql(f'CREATE SCHEMA "{PRISTINE}"')
        for table in _public_tables(conn):
            conn.exec_driver_sql(f'CREATE TABLE "{PRISTINE}"."{table}" AS TABLE public."{table}"')


#: Foreign keys among the public tables: (referencing table, referenced table).
_FOREIGN_KEYS = """
SELECT child.relname, parent.relname FROM pg_constraint c
JOIN pg_class child ON child.oid = c.conrelid JOIN pg_class parent ON parent.oid = c.confrelid
WHERE c.contype = 'f' AND c.connamespace = 'public'::regnamespace
"""


def _current_xid(conn) -> int:
    return int(conn.exec_driver_sql("SELECT txid_current()").scalar_one())


def _reset_to_pristine(name: str, mark: int, counts: dict[str, int]) -> int:
    """Make a used test database the template again; returns the mark for the next reset.

    Only the tables the test changed are emptied and reloaded from the PRISTINE schema, with the
    tables whose foreign keys reach them (TRUNCATE ... CASCADE empties those too). A table has
    changed when a row was written after ``mark`` (its ``xmin``, the transaction that wrote it,
    is newer: inserts and updates) or when it holds another number of rows than the template
    (deletes). Tables a test created (a job queue's, say) are emptied. Serial ids go on counting,
    which no test relies on. Reloading every table each time cost about 33 ms of PostgreSQL CPU
    per test, mostly the network's 2,400 rows that no test changes.
    """
    from corridor.store.models import Base

    # A test that left a transaction open would block TRUNCATE: then the database is dropped.
    engine = create_engine(
        _pg_url(name), poolclass=NullPool, connect_args={"options": "-c lock_timeout=5000"}
    )
    try:
        with engine.begin() as conn:
            tables = _public_tables(conn)
            if not set(counts) <= set(tables):
                raise RuntimeError(f"tables were dropped: {sorted(set(counts) - set(tables))}")
            now = _current_xid(conn)  # rows this reset writes carry it
            if now % 2**32 <= mark % 2**32:  # 32-bit xids wrapped round since: reload all
                changed = set(tables)
            else:
                since = mark % 2**32
                rows = conn.exec_driver_sql(
                    " UNION ALL ".join(
                        f"SELECT '{t}', count(*), count(*) FILTER"
                        f' (WHERE xmin::text::bigint > {since}) FROM public."{t}"'
                        for t in tables
                    )
                )
                changed = {
                    t for t, rows_now, written in rows if written or rows_now != counts.get(t)
                }
            referencing: dict[str, set[str]] = {}
            for child, parent in conn.exec_driver_sql(_FOREIGN_KEYS):
                referencing.setdefault(parent, set()).add(child)
            todo = list(changed)
            while todo:
                for child in referencing.get(todo.pop(), ()):
                    if child not in changed:
                        changed.add(child)
                        todo.append(child)
            if changed:
                conn.exec_driver_sql(
                    "TRUNCATE " + ", ".join(f'public."{t}"' for t in sorted(changed)) + " CASCADE"
                )
            ordered = [t.name for t in Base.metadata.sorted_tables if t.name in counts]
            ordered += sorted(set(counts) - set(ordered))  # alembic_version
            for table in ordered:
                if table in changed:
                    conn.exec_driver_sql(
                        f'INSERT INTO public."{table}" SELECT * FROM "{PRISTINE}"."{table}"'
                    )
            return now
    finally:
        engine.dispose()


class _PostgresPool:
    """Seeded PostgreSQL databases: copies of the template, reset after each test and reused."""

    def __init__(self, template: str, dropper: _Dropper) -> None:
        self.template = template
        self.dropper = dropper
        self.free: list[str] = []
        self.all: list[str] = []
        self.marks: dict[str, int] = {}  # database -> transaction id after which rows are new
        self.counts = _row_counts(template)

    def take(self) -> str:
        if self.free:
            return self.free.pop()
        name = f"corridor_test_{uuid.uuid4().hex[:12]}"
        _create_postgres(name, self.template).dispose()
        admin = _pg_admin()
        try:
            with admin.connect() as conn:
                self.marks[name] = _current_xid(conn)
        finally:
            admin.dispose()
        self.all.append(name)
        return name

    def give_back(self, name: str) -> None:
        try:
            self.marks[name] = _reset_to_pristine(name, self.marks[name], self.counts)
        except Exception:  # anything unexpected: never reuse it
            self.all.remove(name)
            self.dropper.names.put(name)
            return
        self.free.append(name)

    def close(self) -> None:
        for name in [*self.all, self.template]:
            self.dropper.names.put(name)


def _row_counts(template: str) -> dict[str, int]:
    """Rows per table of the template's PRISTINE copy (the tables a reset reloads)."""
    engine = create_engine(_pg_url(template), poolclass=NullPool)
    try:
        with engine.connect() as conn:
            tables = _public_tables(conn, PRISTINE)
            rows = conn.exec_driver_sql(
                " UNION ALL ".join(
                    f'SELECT \'{t}\', count(*) FROM "{PRISTINE}"."{t}"' for t in tables
                )
            )
            return {t: int(n) for t, n in rows}
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def _postgres_template() -> Template:
    name = f"corridor_template_{uuid.uuid4().hex[:8]}"
    database = _create_postgres(name)
    logins = prepare(database, PACKAGE_DATA_DIR, demo_shipment=False)
    _keep_pristine(database)
    database.dispose()  # a template must have no connections while it is copied
    return Template("postgresql", name, tuple(logins))


@pytest.fixture(scope="session")
def _postgres_pool(_postgres_template, _dropper) -> Iterator[_PostgresPool]:
    pool = _PostgresPool(_postgres_template.location, _dropper)
    yield pool
    pool.close()


@dataclass(frozen=True)
class Seeded:
    db: Database
    logins: tuple[DemoLogin, ...]

    @property
    def passwords(self) -> dict[str, str]:
        return {login.email: login.password for login in self.logins}


@pytest.fixture(params=["sqlite", "postgresql"])
def dialect(request) -> str:
    """The database kind of this test run; every store and API test runs on both."""
    return request.param


def _empty(dialect: str, tmp_path: Path, dropper) -> Iterator[Database]:
    if dialect == "sqlite":
        database = Database(f"sqlite:///{tmp_path / 'corridor.db'}")
        yield database
        database.dispose()
        return
    name = f"corridor_test_{uuid.uuid4().hex[:12]}"
    database = _create_postgres(name)
    try:
        yield database
    finally:
        database.dispose()
        dropper.names.put(name)


@pytest.fixture
def seeded(request, dialect, tmp_path) -> Iterator[Seeded]:
    """A migrated database holding the network and the demo accounts: a copy of the template."""
    if dialect == "sqlite":
        template = request.getfixturevalue("_sqlite_template")
        target = tmp_path / "corridor.db"
        shutil.copyfile(template.location, target)
        database = Database(f"sqlite:///{target}")
        yield Seeded(database, template.logins)
        database.dispose()
        return
    template = request.getfixturevalue("_postgres_template")
    pool = request.getfixturevalue("_postgres_pool")
    name = pool.take()
    database = Database(_pg_url(name))
    try:
        yield Seeded(database, template.logins)
    finally:
        database.dispose()
        pool.give_back(name)


@pytest.fixture
def db(request, dialect, tmp_path) -> Iterator[Database]:
    """An empty database of each kind, or the test's seeded one when it also uses `seeded`."""
    if "seeded" in request.fixturenames:
        yield request.getfixturevalue("seeded").db
        return
    dropper = request.getfixturevalue("_dropper") if dialect == "postgresql" else None
    yield from _empty(dialect, tmp_path, dropper)


# -- the demo as `corridor serve` seeds it, for browser tests and the README's examples -------


@dataclass(frozen=True)
class DemoTemplate:
    """An SQLite file seeded as `corridor serve` seeds (network, accounts, demo shipments)."""

    path: Path
    logins: dict[str, str]

    def copy(self, directory: Path, name: str = "e2e.db") -> Database:
        """A fresh copy of the demo, as ``directory/name``."""
        target = directory / name
        shutil.copyfile(self.path, target)
        return Database(f"sqlite:///{target}")


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> DemoTemplate:
    """Seeded once per test process: seeding hashes eleven passwords and plans the demo."""
    path = tmp_path_factory.mktemp("demo") / "corridor.db"
    db = Database(f"sqlite:///{path}")
    logins = {lg.email: lg.password for lg in prepare(db, PACKAGE_DATA_DIR)}
    with db.engine.connect() as conn:  # everything into the main file, none left in -wal
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    db.dispose()
    return DemoTemplate(path, logins)


# -- xdist: which tests go together, and which go first -------------------------------------------
#
# `dev.py test` runs pytest with `-n 3 --dist loadgroup --no-loadscope-reorder`; the scheduler below
# replaces xdist's loadgroup (whose xdist_group marks pytest 9 no longer applies): every test is
# its own unit of work, handed to the next free worker in collection order, except the modules (or
# folders, ending in "/") in ONE_WORKER, whose tests share something too costly to build once per
# worker: a module-scoped fixture, one Chromium for consecutive browser tests, PyPSA's import
# (3-4 s CPU).
ONE_WORKER = {
    "tests/energy/",  # PyPSA imported once; one full-year solve (8,760 hours)
    "tests/simulation/test_calibration.py",  # one simulated year
    "tests/web/test_roles_e2e.py",  # one server the roles take turns on
    "tests/web/test_languages.py",  # one server per test, one Chromium (tests/web/conftest.py)
    "tests/web/test_dashboard_e2e.py",
    "tests/web/test_declaration_e2e.py",
    "tests/web/test_capacity_e2e.py",
    "tests/web/test_notices_e2e.py",
    "tests/web/test_simulation_page.py",
    "tests/test_readme.py",  # one demo home
    "tests/store/test_customs_store.py",
    "tests/store/test_customs_tamper.py",
    "tests/store/test_customs_cli.py",
}


def _one_worker_scope(nodeid: str) -> str | None:
    module = nodeid.split("::", 1)[0]
    if module in ONE_WORKER:
        return module
    return next((f for f in ONE_WORKER if f.endswith("/") and module.startswith(f)), None)


# A long test collected last would leave one worker running it alone at the end: these start
# first, longest first; the rest keep their order. A run without xdist keeps pytest's order.
LONGEST_FIRST = (
    "tests/energy/test_reality.py",  # the scope tests/energy/ (about 50 s CPU) goes first
    "tests/energy/test_model.py::test_sweep",
    "tests/api/test_schemathesis.py::test_fuzzing",
    "tests/api/test_access_matrix.py",
    "tests/test_benchmarks.py",  # real servers as processes: 20-25 s of CPU per database
    "tests/web/test_languages.py",
    "tests/web/test_dashboard_e2e.py",
    "tests/web/test_roles_e2e.py",
    "tests/web/",
    "tests/api/test_schemathesis.py",
    "tests/simulation/",
    "tests/api/test_concurrency.py",
    "tests/api/test_capacity_api.py",
    "tests/test_readme.py",
)


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config, log):
    if config.getvalue("dist") != "loadgroup":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class ByTestOrModule(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _one_worker_scope(nodeid) or nodeid

    return ByTestOrModule(config, log)


def pytest_collection_modifyitems(config, items) -> None:
    if not os.environ.get("PYTEST_XDIST_WORKER"):
        return

    def rank(item) -> int:
        for position, prefix in enumerate(LONGEST_FIRST):
            if item.nodeid.startswith(prefix):
                return position
        return len(LONGEST_FIRST)

    items.sort(key=rank)  # stable, and the same in every worker, as xdist requires
