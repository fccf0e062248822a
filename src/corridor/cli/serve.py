"""``corridor serve``: run the service (``corridor admin ...`` is in cli/admin.py)."""

from __future__ import annotations

import typer
from rich.console import Console

from corridor.settings import get_settings
from corridor.store import files
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
) -> None:
    """Start the API and the web dashboard over the configured database (embedded SQLite by default).

    On first start the database is created and migrated, the network imported, and demo logins
    printed once.
    """
    import uvicorn

    from corridor.api import create_app

    settings = get_settings()
    files.secure(settings.var_dir, settings.resolved_database_url())
    db = Database(settings.resolved_database_url())
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
        f"Corridor on http://{host}:{port}/  (API docs: http://{host}:{port}/docs, database: {db.dialect})"
    )
    uvicorn.run(create_app(settings, db), host=host, port=port, log_level="warning")
