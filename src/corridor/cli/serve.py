"""``corridor serve``: run the service (``corridor admin ...`` is in cli/admin.py)."""

from __future__ import annotations

import typer
from rich.console import Console

from corridor.settings import get_settings
from corridor.store import files
from corridor.store.accounts import set_password_cost
from corridor.store.db import Database
from corridor.store.seed import prepare

out = Console(soft_wrap=True)


def serve(
    host: str | None = typer.Option(
        None, help="Address to listen on (default 127.0.0.1, CORRIDOR_HOST)."
    ),
    port: int | None = typer.Option(None, help="Port (default 8000, CORRIDOR_PORT)."),
    demo: bool = typer.Option(
        True, help="Seed demo organisations and users into an empty database."
    ),
    workers: int | None = typer.Option(
        None,
        min=1,
        max=64,
        help="Server processes (default 1, CORRIDOR_WORKERS); each has CORRIDOR_THREADS threads.",
    ),
) -> None:
    """Start the API and the web dashboard over the configured database (embedded SQLite by default).

    On first start the database is created and migrated, the network imported, and demo logins
    printed once. With ``--workers N`` the database is prepared once, here, and N processes serve
    it (see docs/deploy.md).
    """
    import uvicorn

    settings = get_settings()
    workers = workers or settings.workers
    files.secure(settings.var_dir, settings.resolved_database_url())
    set_password_cost(settings.argon2_time_cost, settings.argon2_memory_kib)
    db = Database.from_settings(settings)
    logins = prepare(db, settings.network_dir, demo=demo)
    if logins:
        out.print("[bold]Demo logins (shown once; passwords are stored hashed):[/bold]")
        for login in logins:
            out.print(
                f"  {login.email:<34} {login.password:<20} {login.organisation}", highlight=False
            )
    host = host or settings.host
    port = port or settings.port
    out.print(
        f"Corridor on http://{host}:{port}/  (API docs: http://{host}:{port}/docs, "
        f"database: {db.dialect}, {workers} worker(s) x {settings.threads} threads)"
    )
    common = {
        "host": host,
        "port": port,
        "log_level": "warning",
        "timeout_graceful_shutdown": settings.shutdown_timeout_s,
        "timeout_keep_alive": settings.keep_alive_s,
    }
    if workers == 1:
        from corridor.api import create_app
        from corridor.api.worker import settle_memory

        app = create_app(settings, db)
        settle_memory()
        uvicorn.run(app, **common)  # type: ignore[arg-type]
        return
    # The supervisor only prepares the database and watches the workers: it never imports the
    # API (about 2 s of CPU at every start); each worker builds its own app.
    db.dispose()  # each worker opens its own pool
    uvicorn.run(
        "corridor.api.worker:app",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )
