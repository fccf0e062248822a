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
from typing import Any

import psycopg
from huey import Huey, PostgresHuey, RedisHuey, SqliteHuey
from huey.consumer import Consumer
from sqlalchemy.engine import make_url

from corridor.jobs.kinds import JobError, known, resolve
from corridor.settings import Settings
from corridor.store import jobs as job_store
from corridor.store.db import Database
from corridor.store.jobs_tables import Job

log = logging.getLogger("corridor.jobs")

#: Progress is written to the database at most this often (a job may report thousands of steps).
PROGRESS_INTERVAL_S = 0.5


class _QuietConsumer(Consumer):  # type: ignore[misc]
    """huey's consumer without its signal handlers: inside ``corridor serve`` uvicorn owns them."""

    def _set_signal_handlers(self) -> None:
        return None


def _huey(settings: Settings, db: Database) -> Huey:
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
                return PostgresHuey("corridor", dsn=dsn, table_prefix="corridor_queue", utc=True)
            except psycopg.errors.UniqueViolation:
                if attempt == 5:
                    raise
                time.sleep(0.1 * (attempt + 1))
    if backend == "redis":
        return RedisHuey("corridor", url=settings.jobs_redis_url, utc=True)
    settings.var_dir.mkdir(parents=True, exist_ok=True)
    return SqliteHuey("corridor", filename=str(settings.var_dir / "jobs.db"), utc=True)


class JobQueue:
    """Submit jobs and run them; one per process (API worker or ``corridor worker``)."""

    def __init__(self, settings: Settings, db: Database) -> None:
        self.settings = settings
        self.db = db
        self.huey = _huey(settings, db)
        self._execute = self.huey.task(name="corridor.jobs.execute", retries=0)(self.execute)
        # Each consumer thread holds its own connections (PostgreSQL: a LISTEN connection);
        # close them in that thread when it stops, not at garbage collection.
        # huey's storage shares one connection between threads: close it under a lock.
        self._close_lock = threading.Lock()
        self.huey.on_shutdown(name="corridor-close-storage")(self._close_storage)
        self._consumer: Consumer | None = None

    def submit(self, kind: str, params: dict[str, Any], organisation_id: str | None) -> Job:
        """Record the job (committed before it is queued, so a fast consumer always finds it)."""
        if not known(kind):  # refused here, not later in a consumer
            raise JobError("unknown_kind", "kind", f"no job kind {kind!r}")
        with self.db.session() as s:
            job = job_store.create(s, kind, params, organisation_id)
        self._execute(job.id)
        return job

    def execute(self, job_id: str) -> None:
        """Run one job: claim it, call its function with a progress reporter, store the outcome."""
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
            result = resolve(kind)(params, progress)
        except JobError as exc:
            error = {"code": exc.code, "field": exc.field, "reason": exc.reason}
            with self.db.session() as s:
                job_store.finish(s, job_id, error=error)
            return
        except Exception:
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

    def start_consumer(self, workers: int) -> None:
        """Consume in background threads of this process (the embedded default, and tests)."""
        if self._consumer is not None or workers < 1:
            return
        consumer = _QuietConsumer(
            self.huey,
            workers=workers,
            periodic=False,
            initial_delay=0.05,
            max_delay=1.0,
            check_worker_health=False,
        )
        consumer.start()
        self._consumer = consumer

    def _close_storage(self) -> None:
        with self._close_lock:
            self.huey.storage.close()

    def close(self) -> None:
        """Stop this process's consumer threads (letting running jobs finish) and disconnect."""
        if self._consumer is not None:
            self._consumer.stop(graceful=True)
            self._consumer = None
        self._close_storage()

    def run_consumer(self, workers: int) -> None:
        """Consume in the foreground until interrupted (``corridor worker``)."""
        consumer = self.huey.create_consumer(
            workers=workers, periodic=False, initial_delay=0.05, max_delay=1.0
        )
        consumer.run()
