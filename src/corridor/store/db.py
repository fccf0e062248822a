"""Engines and sessions for the embedded SQLite default and for PostgreSQL.

The concurrency model (docs/deploy.md): every request runs in a worker thread with its own
session; a process has ``threads`` such threads and a pool of ``threads + reserve`` connections, so
a request never waits for a connection behind another request that is waiting for a thread.

* **Reads** begin an ordinary transaction. A read of one or more independent statements that needs
  no snapshot across them (``session(autocommit=True)``: a request's plain GET of its own rows, a
  token lookup) runs on PostgreSQL without one: each statement is its own READ COMMITTED
  transaction, which is what each statement of a READ COMMITTED transaction sees anyway, without
  the BEGIN and COMMIT round trips. SQLite ignores the flag.
* **Writes** (``write_session()``, or ``session(write=True)``) begin with ``BEGIN IMMEDIATE`` on
  SQLite: the write lock is taken at the first statement and a second writer waits for it (busy
  timeout) instead of failing half-way when its read snapshot turns stale. On PostgreSQL a write
  session is an ordinary READ COMMITTED transaction; state changes are conditional UPDATEs or row
  locks, so that concurrent writers queue on the row and exactly one wins.
* **Limits** on PostgreSQL: ``statement_timeout`` and ``idle_in_transaction_session_timeout`` are
  set on every connection, so neither a slow query nor a forgotten transaction holds locks for ever.
* **Failures** that leave nothing applied (SQLite busy after the timeout, a PostgreSQL deadlock or
  serialization failure, a connection killed before COMMIT, no free connection) are classified by
  :func:`retryable`; the API runs such a request again and otherwise answers 503 with Retry-After.
"""

from __future__ import annotations

import random
import sqlite3
import time
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import Connection
from sqlalchemy.exc import DBAPIError, OperationalError
from sqlalchemy.exc import TimeoutError as PoolTimeout
from sqlalchemy.orm import Session, sessionmaker

if TYPE_CHECKING:
    from corridor.settings import Settings

T = TypeVar("T")

#: PostgreSQL SQLSTATEs after which the transaction was rolled back and may simply run again:
#: serialization failure, deadlock, idle-in-transaction timeout, and a backend terminated by
#: an administrator (pg_terminate_backend) or a server shutting down.
RETRYABLE_SQLSTATES = frozenset({"40001", "40P01", "25P03", "57P01", "57P02", "57P03"})
#: A query cancelled by statement_timeout: the database is overloaded, running it again at once
#: would not help, so it answers 503 without a retry.
STATEMENT_TIMEOUT = "57014"
_WRITE = "corridor_begin_immediate"


class CommitUncertain(Exception):
    """The connection broke during COMMIT: the change may or may not be stored.

    Never retried automatically (a booking could be made twice); the client gets a 503 and must
    look before it tries again.
    """


#: Exceptions that mean "the database cannot do this now" rather than "the input was bad": the
#: API answers them with 503 (after retrying the retryable ones). OperationalError covers SQLite
#: busy, PostgreSQL deadlocks, serialization failures, timeouts and lost connections.
UNAVAILABLE_ERRORS: tuple[type[Exception], ...] = (OperationalError, PoolTimeout, CommitUncertain)


def _sqlstate(exc: DBAPIError) -> str | None:
    state = getattr(exc.orig, "sqlstate", None)
    return state if isinstance(state, str) else None


def retryable(exc: BaseException) -> bool:
    """True when the database refused the work without applying any of it, so it may run again."""
    if isinstance(exc, PoolTimeout):
        return True
    if not isinstance(exc, DBAPIError) or isinstance(exc, CommitUncertain):
        return False
    if isinstance(exc.orig, sqlite3.OperationalError):
        message = str(exc.orig).lower()
        return "locked" in message or "busy" in message
    return exc.connection_invalidated or _sqlstate(exc) in RETRYABLE_SQLSTATES


def unavailable(exc: BaseException) -> bool:
    """True when ``exc`` means the database is busy or unreachable (503), not that the input was bad."""
    if retryable(exc) or isinstance(exc, CommitUncertain):
        return True
    if isinstance(exc, DBAPIError):
        return _sqlstate(exc) == STATEMENT_TIMEOUT or exc.connection_invalidated
    return False


def _sqlite_connect(busy_timeout_ms: int) -> Callable[[Any, Any], None]:
    def connect(dbapi_connection: Any, _record: Any) -> None:
        # SQLAlchemy, not the driver, begins transactions (see _sqlite_begin): the driver's own
        # implicit BEGIN is always DEFERRED, and a deferred transaction that reads and then writes
        # fails at once with "database is locked" when another writer committed in between.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        # WAL lets readers go on while one writer writes; SQLite leaves foreign keys off unless
        # asked, and an unchecked reference is exactly the silent corruption we never accept.
        cursor.execute("PRAGMA journal_mode=WAL")
        # In WAL mode NORMAL never corrupts the database, and a killed process loses nothing
        # committed; only a power cut may lose the last commits.
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={int(busy_timeout_ms)}")
        cursor.close()

    return connect


def _sqlite_begin(conn: Connection) -> None:
    immediate = conn.get_execution_options().get(_WRITE, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if immediate else "BEGIN")


class Database:
    """One database: its engine, a pool sized for the request threads, and session factories."""

    def __init__(
        self,
        url: str,
        *,
        pool_size: int = 20,
        pool_timeout_s: float = 3.0,
        sqlite_busy_timeout_ms: int = 5000,
        pg_statement_timeout_ms: int = 15000,
        pg_idle_in_transaction_timeout_ms: int = 10000,
    ) -> None:
        self.url = url
        self.pool_size = pool_size
        kwargs: dict[str, Any] = {}
        sqlite = url.startswith("sqlite")
        memory = sqlite and (url.endswith(":memory:") or url.rstrip("/") == "sqlite:")
        if sqlite:
            path = url.split("///", 1)[-1]
            if path and not memory:
                Path(path).parent.mkdir(parents=True, exist_ok=True)
            kwargs["connect_args"] = {"check_same_thread": False}
        else:
            # No pre-ping (a round trip before every checkout, a steady share of each request's
            # CPU): a connection killed while idle fails its first statement as a disconnect,
            # SQLAlchemy then drops the whole pool, and the request is run again on a fresh
            # connection (retryable(): connection_invalidated), unseen by the client.
            options = []
            if pg_statement_timeout_ms:
                options.append(f"-c statement_timeout={int(pg_statement_timeout_ms)}")
            if pg_idle_in_transaction_timeout_ms:
                options.append(
                    "-c idle_in_transaction_session_timeout="
                    f"{int(pg_idle_in_transaction_timeout_ms)}"
                )
            if options and url.startswith("postgresql"):
                kwargs["connect_args"] = {"options": " ".join(options)}
        if not memory:
            # No overflow: the pool is the limit, sized by the caller to the request threads.
            kwargs.update(pool_size=pool_size, max_overflow=0, pool_timeout=pool_timeout_s)
        self.engine: Engine = create_engine(url, **kwargs)
        if sqlite:
            event.listen(self.engine, "connect", _sqlite_connect(sqlite_busy_timeout_ms))
            event.listen(self.engine, "begin", _sqlite_begin)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)
        self._write_sessions = sessionmaker(
            self.engine.execution_options(**{_WRITE: True}), expire_on_commit=False
        )
        self._autocommit_sessions = (
            self._sessions
            if sqlite
            else sessionmaker(
                self.engine.execution_options(isolation_level="AUTOCOMMIT"),
                expire_on_commit=False,
            )
        )

    @classmethod
    def from_settings(cls, settings: Settings) -> Database:
        """The configured database with the pool and limits that ``settings`` asks for."""
        return cls(
            settings.resolved_database_url(),
            pool_size=settings.threads + settings.db_pool_reserve,
            pool_timeout_s=settings.db_pool_timeout_s,
            sqlite_busy_timeout_ms=settings.sqlite_busy_timeout_ms,
            pg_statement_timeout_ms=settings.pg_statement_timeout_ms,
            pg_idle_in_transaction_timeout_ms=settings.pg_idle_in_transaction_timeout_ms,
        )

    @property
    def dialect(self) -> str:
        return self.engine.dialect.name

    def new_session(self, write: bool = False, autocommit: bool = False) -> Session:
        """A session the caller commits and closes (the API's request dependency does).

        ``autocommit=True`` (reads only, never with ``write``): on PostgreSQL each statement is its
        own transaction (see the module docstring); never use it for a session that writes."""
        if autocommit and not write:
            return self._autocommit_sessions()
        return (self._write_sessions if write else self._sessions)()

    @contextmanager
    def session(self, write: bool = False, autocommit: bool = False) -> Iterator[Session]:
        """A session that commits on success and rolls back on any error.

        ``write=True`` takes SQLite's write lock at the first statement (``BEGIN IMMEDIATE``); use
        it whenever the transaction may write, and keep slow work (planning, hashing) before it.
        ``autocommit=True``: a read without a transaction on PostgreSQL (see :meth:`new_session`).
        """
        session = self.new_session(write, autocommit)
        try:
            yield session
            commit(session)
        except BaseException:
            session.rollback()
            raise
        finally:
            session.close()

    def write_session(self) -> AbstractContextManager[Session]:
        """``session(write=True)``: a transaction that writes."""
        return self.session(write=True)

    def run(self, work: Callable[[Session], T], write: bool = True, retries: int = 3) -> T:
        """``work(session)`` in one transaction, run again (with jitter) while :func:`retryable`.

        For callers outside a request (CLI, jobs); the API retries whole requests instead.
        """
        for attempt in range(retries + 1):
            try:
                with self.session(write) as s:
                    return work(s)
            except Exception as exc:
                if attempt == retries or not retryable(exc):
                    raise
                time.sleep(random.uniform(0.01, 0.05) * (attempt + 1))
        raise AssertionError("unreachable")

    def ping(self) -> None:
        """One round trip to the database; raises if it does not answer."""
        with self.engine.connect() as connection:
            connection.execute(text("SELECT 1"))

    def dispose(self) -> None:
        self.engine.dispose()


def commit(session: Session) -> None:
    """Commit, turning a connection lost during COMMIT into :class:`CommitUncertain`."""
    try:
        session.commit()
    except DBAPIError as exc:
        if exc.connection_invalidated:
            raise CommitUncertain(str(exc.orig)) from exc
        raise
