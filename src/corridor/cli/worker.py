"""``corridor worker``: run background jobs in a process of their own (scale-out).

Start as many as the work needs, on any machine that reaches the database; set
``CORRIDOR_JOBS_THREADS=0`` on the API workers when these carry all the jobs.
"""

from __future__ import annotations

import typer
from rich.console import Console

from corridor.settings import get_settings

out = Console(soft_wrap=True)


def worker(
    threads: int = typer.Option(2, min=1, max=64, help="Long jobs run at once by this process."),
    capture_threads: int = typer.Option(
        2, min=0, max=64, help="EPCIS captures run at once by this process (their own lane)."
    ),
) -> None:
    """Run queued jobs (simulation, energy and capture runs) until interrupted."""
    from corridor.jobs import JobQueue
    from corridor.store.db import Database
    from corridor.store.seed import prepare

    settings = get_settings()
    db = Database(settings.resolved_database_url())
    prepare(db, settings.network_dir, demo=False)
    out.print(
        f"Corridor worker: {threads} thread(s), {capture_threads} capture thread(s), "
        f"database {db.dialect}",
        highlight=False,
    )
    JobQueue(settings, db).run_consumer(threads, capture_threads)
