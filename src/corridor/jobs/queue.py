"""The job queue: huey over the platform's own database engine, so no extra service is needed.

- Embedded default (SQLite): huey's SQLite storage in ``var_dir/jobs.db``, consumed by threads inside
  ``corridor serve``.
- PostgreSQL: huey's PostgreSQL storage (LISTEN/NOTIFY) in the same database, so every API worker
  on every machine enqueues into one queue and any ``corridor worker`` process may run the job.
- ``jobs_backend = "redis"``: huey on Redis (``jobs_redis_url``), for sites that prefer it.

The queue carries only the job id. A job runs at most once: the consumer claims the row with a
conditional UPDATE before running it, so a redelivered message is a no-op.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from typing import Any

import psycopg
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from huey.storage import PostgresStorage
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session

from corridor.jobs.kinds import JobError, interactive, known, resolve, resolve_stored
from corridor.settings import Settings
from corridor.store import jobs as job_store
from corridor.store.db import Database
from corridor.store.jobs_tables import Job

log = logging.getLogger("corridor.jobs")

#: Progress is written to the database at most this often (a job may report thousands of steps).
PROGRESS_INTERVAL_S = 0.5


def _user_error(exc: Exception) -> dict[str, Any] | None:
    """``{code, field, reason}`` of an error its user can act on: a JobError, or a domain error
    (CorridorError, TrackingError, ScenarioError ... all carry these three); None otherwise."""
    code, field, reason = (getattr(exc, name, None) for name in ("code", "field", "reason"))
    if isinstance(exc, JobError) or (
        isinstance(exc, ValueError) and isinstance(code, str) and isinstance(reason, str)
    ):
        return {"code": code, "field": field, "reason": reason}
    return None


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer without its signal handlers: inside ``corridor serve`` uvicorn owns them."""

    def _set_signal_handlers(self) -> None:
        return None


class _WakeablePostgresStorage(PostgresStorage):  # type: ignore[misc]
    """huey's PostgreSQL storage whose idle consumers ``wake`` stops waiting at once.

    huey's own waits out ``read_timeout`` (1 s) after a notification that brought no task, so
    each lane of a stopping consumer took up to a second to notice its stop flag: every
    shutdown of an API process (and every test app) waited 1-2 s. Here an empty wake-up returns
    to the consumer's loop, which checks its stop flag.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.stopping = threading.Event()

    def dequeue(self) -> bytes | None:
        data: bytes | None = self._dequeue()
        if data is not None or not self.blocking:
            return data
        conn = self._listen_conn()
        # Set before wake()'s notification is sent, and this connection listens already: a
        # consumer either sees the flag here or receives the notification below.
        if self.stopping.is_set():
            return None
        if not list(conn.notifies(timeout=self.read_timeout, stop_after=1)):
            return None
        data = self._dequeue()  # None if another consumer won: back to the loop, then wait again
        return data

    def wake(self) -> None:
        """Wake every consumer of this queue waiting for a task (their stop flags are set)."""
        self.stopping.set()
        self.sql("select pg_notify(%s, '')", (self.channel,))


class _PostgresHuey(PostgresHuey):  # type: ignore[misc]
    storage_class = _WakeablePostgresStorage


def _huey(settings: Settings, db: Database, name: str = "corridor") -> Huey:
    backend = settings.jobs_backend
    if backend == "auto":
        backend = "postgres" if db.dialect == "postgresql" else "sqlite"
    if backend == "postgres":
        if db.dialect != "postgresql":
            raise ValueError("jobs_backend 'postgres' needs a PostgreSQL database_url")
        dsn = make_url(db.url).set(drivername="postgresql").render_as_string(hide_password=False)
        # huey creates its tables with CREATE TABLE IF NOT EXISTS, which PostgreSQL does not make
        # safe against itself: N workers starting at once can collide on the catalog. Try again.
        for attempt in range(6):
            try:
                return _PostgresHuey(name, dsn=dsn, table_prefix="corridor_queue", utc=True)
            except psycopg.errors.UniqueViolation:
                if attempt == 5:
                    raise
                time.sleep(0.1 * (attempt + 1))
    if backend == "redis":
        return RedisHuey(name, url=settings.jobs_redis_url, utc=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey(name, filename=str(settings.var_dir / "jobs.db"), utc=True)


class JobQueue:
    """Submit jobs and run them; one per process (API worker or ``corridor worker``).

    Two lanes on the same storage: ``batch`` (simulation and energy runs, minutes to hours) and
    ``interactive`` (EPCIS captures, which a client is waiting for). Each lane has its own consumer
    threads, so a capture never queues behind a year of simulated traffic.
    """

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.huey = _huey(settings, db)
        self.interactive = _huey(settings, db, "corridor-interactive")
        self._execute = self.huey.task(name="corridor.jobs.execute", retries=0)(self.execute)
        self._execute_interactive = self.interactive.task(name="corridor.jobs.execute", retries=0)(
            self.execute
        )
        # Each consumer thread holds its own connections (PostgreSQL: a LISTEN connection);
        # close them in that thread when it stops, not at garbage collection.
        # huey's storage shares one connection between threads: close it under a lock.
        self._close_lock = threading.Lock()
        self.huey.on_shutdown(name="corridor-close-storage")(self._close_storage)
        self.interactive.on_shutdown(name="corridor-close-storage")(self._close_interactive)
        self._consumers: list[Consumer] = []
        # Callbacks for jobs finishing in this process (a request waiting for its capture).
        self._waiters: dict[str, list[Callable[[], None]]] = {}
        self._waiters_lock = threading.Lock()

    def on_finish(self, job_id: str, callback: Callable[[], None]) -> Callable[[], None]:
        """Call ``callback`` (from the consumer thread) when ``job_id`` finishes in this process.

        A job run by another process never calls it: the caller still polls, only less often.
        Returns a function that forgets the callback.
        """
        with self._waiters_lock:
            self._waiters.setdefault(job_id, []).append(callback)

        def forget() -> None:
            with self._waiters_lock:
                left = [c for c in self._waiters.get(job_id, []) if c is not callback]
                if left:
                    self._waiters[job_id] = left
                else:
                    self._waiters.pop(job_id, None)

        return forget

    def _finished(self, job_id: str) -> None:
        with self._waiters_lock:
            callbacks = self._waiters.pop(job_id, [])
        for callback in callbacks:
            try:
                callback()
            except Exception:  # a waiter that went away: nothing to tell
                log.debug("waiter of job %s failed", job_id, exc_info=True)

    def submit(
        self,
        kind: str,
        params: dict[str, Any],
        organisation_id: str | None,
        *,
        job_id: str | None = None,
        record: Callable[[Session, Job], None] | None = None,
    ) -> Job:
        """Record the job (committed before it is queued, so a fast consumer always finds it).

        ``record`` writes what the kind keeps beside the job row (an EPCIS capture's document) in
        the same transaction; ``job_id`` chooses the id (a capture's id is its job's).
        """
        if not known(kind):  # refused here, not later in a consumer
            raise JobError("unknown_kind", "kind", f"no job kind {kind!r}")
        with self.db.write_session() as s:
            job = job_store.create(s, kind, params, organisation_id, job_id)
            if record is not None:
                record(s, job)
        if interactive(kind):
            self._execute_interactive(job.id)
        else:
            self._execute(job.id)
        return job

    def execute(self, job_id: str) -> None:
        """Run one job: claim it, call its function with a progress reporter, store the outcome."""
        try:
            self._execute_job(job_id)
        finally:
            self._finished(job_id)

    def _execute_job(self, job_id: str) -> None:
        with self.db.session() as s:
            if not job_store.claim(s, job_id):
                return
            job = job_store.get(s, job_id)
            assert job is not None
            kind, params = job.kind, dict(job.params)
        last = 0.0

        def progress(fraction: float, message: str) -> None:
            nonlocal last
            now = time.monotonic()
            if now - last < PROGRESS_INTERVAL_S and fraction < 1.0:
                return
            last = now
            with self.db.session() as s:
                job_store.report(s, job_id, max(0.0, min(1.0, float(fraction))), message)

        try:
            stored = resolve_stored(kind)
            if stored is not None:
                result = stored(params, progress, self.db, self.settings)
            else:
                result = resolve(kind)(params, progress)
        except Exception as exc:
            error = _user_error(exc)
            if error is None:
                log.exception("job %s (%s) failed", job_id, kind)
                error = {
                    "code": "internal",
                    "field": None,
                    "reason": "the job failed; it has been logged",
                }
            with self.db.session() as s:
                job_store.finish(s, job_id, error=error)
            return
        with self.db.session() as s:
            job_store.finish(s, job_id, result=result)

    def _consumer(self, huey: Huey, workers: int) -> Consumer:
        return _QuietConsumer(
            huey,
            workers=workers,
            periodic=False,
            initial_delay=0.05,
            # An idle SQLite queue is polled (PostgreSQL's wakes on NOTIFY): captures at most
            # 0.1 s late, since a client is waiting; long runs at most 1 s.
            max_delay=0.1 if huey is self.interactive else 1.0,
            check_worker_health=False,
        )

    def start_consumer(self, workers: int, interactive_workers: int | None = None) -> None:
        """Consume in background threads of this process (the embedded default, and tests).

        ``interactive_workers`` threads run captures (default: ``settings.jobs_interactive_threads``).
        """
        if self._consumers:
            return
        for huey in (self.huey, self.interactive):
            if isinstance(huey.storage, _WakeablePostgresStorage):
                huey.storage.stopping.clear()
        if interactive_workers is None:
            interactive_workers = self.settings.jobs_interactive_threads
        for huey, count in ((self.huey, workers), (self.interactive, interactive_workers)):
            if count >= 1:
                consumer = self._consumer(huey, count)
                consumer.start()
                self._consumers.append(consumer)

    def _close_storage(self) -> None:
        with self._close_lock:
            self.huey.storage.close()

    def _close_interactive(self) -> None:
        with self._close_lock:
            self.interactive.storage.close()

    def close(self) -> None:
        """Stop this process's consumer threads (letting running jobs finish) and disconnect."""
        for consumer in self._consumers:  # every lane told first, so they stop together
            consumer.stop_flag.set()
        for huey in (self.huey, self.interactive):
            if self._consumers and isinstance(huey.storage, _WakeablePostgresStorage):
                huey.storage.wake()
        for consumer in self._consumers:
            consumer.stop(graceful=True)
        self._consumers = []
        self._close_storage()
        self._close_interactive()

    def run_consumer(self, workers: int, interactive_workers: int = 2) -> None:
        """Consume in the foreground until interrupted (``corridor worker``): the batch lane here,
        the interactive lane in background threads of the same process."""
        if interactive_workers >= 1:
            side = self._consumer(self.interactive, interactive_workers)
            side.start()
            self._consumers.append(side)
        consumer = self.huey.create_consumer(
            workers=workers, periodic=False, initial_delay=0.05, max_delay=1.0
        )
        try:
            consumer.run()
        finally:
            self.close()
