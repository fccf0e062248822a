"""``corridor admin ...``: organisations, users, their standing and their API tokens.

These commands act on the configured database directly, as the operator of the service; they
need no token and are the way back in when the only administrator is locked out.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from typing import TYPE_CHECKING

import typer
from rich.console import Console

from corridor.store.accounts import AccountError

if TYPE_CHECKING:
    from corridor.store.db import Database

out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)
app = typer.Typer(help="Organisations, users and API tokens.", no_args_is_help=True)


@contextmanager
def _database() -> Iterator[Database]:
    """The configured database, migrated; closed on the way out (no pooled connection leaks)."""
    from corridor.settings import get_settings
    from corridor.store import files
    from corridor.store.accounts import set_password_cost
    from corridor.store.db import Database
    from corridor.store.seed import prepare

    settings = get_settings()
    files.secure(settings.var_dir, settings.resolved_database_url())
    set_password_cost(settings.argon2_time_cost, settings.argon2_memory_kib)
    db = Database.from_settings(settings)
    try:
        prepare(db, settings.network_dir, demo=False)
        yield db
    finally:
        db.dispose()


def _fail(exc: AccountError) -> typer.Exit:
    err.print(f"[red]error:[/red] {exc.field}: {exc.reason}", highlight=False)
    return typer.Exit(2)


@app.command("create-org")
def create_org(
    name: str = typer.Argument(..., help="Organisation name."),
    kind: str = typer.Option(..., help="forwarder, carrier, customs or admin."),
    country: str | None = typer.Option(None, help="ISO country code (customs authorities only)."),
) -> None:
    """Create an organisation."""
    from corridor.store.accounts import create_organisation

    try:
        with _database() as db, db.session() as s:
            org = create_organisation(s, name, kind, country)
            out.print(f"created organisation {org.id} ({org.kind})", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None


@app.command("create-user")
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
    from corridor.store.accounts import create_user

    try:
        with _database() as db, db.session() as s:
            user = create_user(s, org, email, name, password)
            out.print(f"created user {user.email}", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None


@app.command("create-token")
def create_token(
    email: str = typer.Option(..., help="The user the token acts for."),
    name: str = typer.Option("api", help="A label for the token."),
    days: int = typer.Option(365, min=1, help="Days until it expires."),
) -> None:
    """Create an API bearer token; it is printed once and stored only as a hash."""
    from corridor.store.accounts import find_user, is_disabled, issue_token

    try:
        with _database() as db, db.session() as s:
            user = find_user(s, email)
            if is_disabled(s, user.id):
                raise AccountError("email", f"{user.email} is disabled; enable it first")
            token = issue_token(s, user.id, name, timedelta(days=days))
    except AccountError as exc:
        raise _fail(exc) from None
    out.print(token, highlight=False)


@app.command("disable-user")
def disable_user(email: str = typer.Option(..., help="The user to disable.")) -> None:
    """Disable a user: no more logins, and every token it holds is revoked."""
    from corridor.store.accounts import disable_user as disable
    from corridor.store.accounts import find_user

    try:
        with _database() as db, db.session() as s:
            user = disable(s, find_user(s, email).id, None)
            out.print(f"disabled {user.email}; its tokens are revoked", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None


@app.command("enable-user")
def enable_user(email: str = typer.Option(..., help="The user to enable again.")) -> None:
    """Let a disabled user log in again (tokens revoked when it was disabled stay revoked)."""
    from corridor.store.accounts import enable_user as enable
    from corridor.store.accounts import find_user

    try:
        with _database() as db, db.session() as s:
            user = enable(s, find_user(s, email).id)
            out.print(f"enabled {user.email}", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None


@app.command("list-tokens")
def list_tokens(email: str = typer.Option(..., help="Whose tokens to list.")) -> None:
    """A user's tokens: id, state, created, expires, label (never the values)."""
    from corridor.store.accounts import find_user, is_disabled, tokens_of
    from corridor.store.models import ApiToken

    try:
        with _database() as db, db.session() as s:
            user = find_user(s, email)
            rows: list[ApiToken] = tokens_of(s, None, user.id)
            disabled = is_disabled(s, user.id)
    except AccountError as exc:
        raise _fail(exc) from None
    # One line per token, tab-separated, so that scripts can cut the id out.
    out.print(f"{user.email}{' (disabled)' if disabled else ''}: {len(rows)} token(s)")
    for row in rows:
        expires = row.expires_at.isoformat(timespec="minutes") if row.expires_at else "never"
        state = "revoked" if row.revoked else "active"
        created = row.created_at.isoformat(timespec="minutes")
        out.print(f"{row.id}\t{state}\t{created}\t{expires}\t{row.name}", highlight=False)


@app.command("revoke-token")
def revoke_token(token_id: str = typer.Argument(..., help="Token id (see list-tokens).")) -> None:
    """Revoke one token of any user."""
    from corridor.store.accounts import revoke_token as revoke

    try:
        with _database() as db, db.session() as s:
            row = revoke(s, None, token_id)
            out.print(f"revoked token {row.id} ({row.name})", highlight=False)
    except AccountError as exc:
        raise _fail(exc) from None
