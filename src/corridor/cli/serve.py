"""``corridor serve`` and ``corridor admin ...``: run the service and manage who may use it."""

from __future__ import annotations

from datetime import timedelta

import typer
from rich.console import Console
from sqlalchemy import select

from corridor.settings import get_settings
from corridor.store.accounts import (
    AccountError,
    create_organisation,
    create_user,
    issue_token,
    set_password_cost,
)
from corridor.store.db import Database
from corridor.store.models import User
from corridor.store.seed import prepare

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
admin = typer.Typer(help="Organisations, users and API tokens.", no_args_is_help=True)


def _database() -> Database:
    settings = get_settings()
    set_password_cost(settings.argon2_time_cost, settings.argon2_memory_kib)
    db = Database.from_settings(settings)
    prepare(db, settings.network_dir, demo=False)
    return db


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

    from corridor.api import create_app

    settings = get_settings()
    workers = workers or settings.workers
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
        uvicorn.run(create_app(settings, db), **common)  # type: ignore[arg-type]
        return
    db.dispose()  # each worker opens its own pool
    uvicorn.run(
        "corridor.api.worker:app",
        factory=True,
        workers=workers,
        **common,  # type: ignore[arg-type]
    )


def _fail(exc: AccountError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.field}: {exc.reason}", highlight=False)
    return typer.Exit(2)


@admin.command("create-org")
def create_org(
    name: str = typer.Argument(..., help="Organisation name."),
    kind: str = typer.Option(..., help="forwarder, carrier, customs or admin."),
    country: str | None = typer.Option(None, help="ISO country code (customs authorities only)."),
) -> None:
    """Create an organisation."""
    db = _database()
    try:
        with db.session() as s:
            org = create_organisation(s, name, kind, country)
            out.print(f"created organisation {org.id} ({org.kind})", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None


@admin.command("create-user")
def create_user_cmd(
    org: str = typer.Option(..., "--org", help="Organisation id."),
    email: str = typer.Option(..., help="Login e-mail."),
    name: str = typer.Option("", help="Full name."),
    password: str = typer.Option(
        ...,
        prompt=True,
        hide_input=True,
        confirmation_prompt=True,
        help="At least 10 characters (prompted when not given).",
    ),
) -> None:
    """Create a user in an organisation."""
    db = _database()
    try:
        with db.session() as s:
            user = create_user(s, org, email, name, password)
            out.print(f"created user {user.email}", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None


@admin.command("create-token")
def create_token(
    email: str = typer.Option(..., help="The user the token acts for."),
    name: str = typer.Option("api", help="A label for the token."),
    days: int = typer.Option(365, min=1, help="Days until it expires."),
) -> None:
    """Create an API bearer token; it is printed once and stored only as a hash."""
    db = _database()
    with db.session() as s:
        user = s.scalar(select(User).where(User.email == email.strip().lower()))
        if user is None:
            raise _fail(AccountError("email", f"no user {email}"))
        token = issue_token(s, user.id, name, timedelta(days=days))
    out.print(token, highlight=False)
