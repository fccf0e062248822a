"""``corridor customs verify``: check the shared customs record end to end."""

from __future__ import annotations

import time

import typer
from rich.console import Console

from corridor.settings import get_settings
from corridor.store import customs, migrate
from corridor.store.db import Database

app = typer.Typer(help="Digital customs transit.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


@app.command()
def verify() -> None:
    """Check every signature and the whole hash chain of the customs log; exit 1 at the first bad record."""
    db = Database(get_settings().resolved_database_url())
    migrate.upgrade(db)
    started = time.perf_counter()
    try:
        with db.session() as session:
            report = customs.verify(session)
    finally:
        db.dispose()
    seconds = time.perf_counter() - started
    if report.ok:
        out.print(
            f"OK: {report.records} records, every signature and link checks out "
            f"(Merkle tree root {report.root}; {seconds:.2f} s)",
            highlight=False,
        )
        return
    err.print(
        f"[red]TAMPERED:[/red] record {report.first_bad}: {report.reason} "
        f"({report.records} records before it check out)",
        highlight=False,
    )
    raise typer.Exit(1)
