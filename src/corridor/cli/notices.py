"""``corridor notices publish|list|amend|close``: disruption notices from the command line.

A port's or a railway's duty officer publishes as their user (``--as``); the same ownership rules
as in the API apply, and every change is kept in the notice's history.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from pydantic import ValidationError
from rich.console import Console
from rich.table import Table

from corridor.settings import get_settings

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from corridor.disruptions import NoticeDraft
    from corridor.network import Network
    from corridor.store.accounts import Principal

app = typer.Typer(help="Disruption notices: closures, suspensions, warnings.", no_args_is_help=True)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)


def _fail(field: str | None, reason: str, code: int = 1) -> typer.Exit:
    err.print(f"[red]error:[/red] {field + ': ' if field else ''}{reason}", highlight=False)
    return typer.Exit(code)


@contextmanager
def _acting(email: str | None) -> Iterator[tuple[Session, Network, Principal | None]]:
    """A session, the network and (when ``email`` is given) the user it acts as."""
    from corridor.disruptions import DisruptionError
    from corridor.store.accounts import principal_by_email
    from corridor.store.db import Database
    from corridor.store.network import load_stored_network
    from corridor.store.seed import prepare

    settings = get_settings()
    db = Database(settings.resolved_database_url())
    prepare(db, settings.network_dir, demo=False)
    try:
        with db.session() as s:
            network = load_stored_network(s, settings.network_dir)
            who = principal_by_email(s, email) if email else None
            if email and who is None:
                raise _fail("--as", f"no user {email}", 2)
            yield s, network, who
    except DisruptionError as exc:
        raise _fail(exc.field, exc.reason) from None
    finally:
        db.dispose()


def _draft(
    kind: str,
    severity: str,
    elements: list[str],
    start: datetime,
    end: datetime | None,
    texts: list[str],
    capacity: float | None,
    limit: int | None,
) -> NoticeDraft:
    from corridor.disruptions import ElementRef, NoticeDraft

    try:
        refs = [ElementRef.parse(e) for e in elements]
    except ValueError as exc:
        raise _fail("--element", str(exc).splitlines()[0], 2) from None
    parsed: dict[str, str] = {}
    for text in texts:
        lang, sep, body = text.partition(":")
        if not sep:
            raise _fail("--text", f"{text!r}: write LANG:TEXT, e.g. en:Port closed by storm", 2)
        parsed[lang.strip()] = body.strip()
    try:
        return NoticeDraft(
            kind=kind,
            severity=severity,
            elements=tuple(refs),
            starts_at=start,
            expected_end=end,
            texts=parsed,
            capacity_factor=capacity,
            equeue_limit_per_day=limit,
        )
    except ValidationError as exc:
        first = exc.errors()[0]
        field = ".".join(str(p) for p in first["loc"]) or None
        raise _fail(field, first["msg"].removeprefix("Value error, "), 2) from None


KIND = typer.Option(
    ...,
    help="closure, suspension, reduced_capacity, acceptance_stop, weather_warning, equeue_limit.",
)
SEVERITY = typer.Option("major", help="info, minor, major or severe.")
ELEMENT = typer.Option(
    ..., "--element", help="KIND:ID, repeatable (node:aktau_port, crossing:x-dostyk)."
)
START = typer.Option(..., "--from", help="Start (ISO 8601, UTC if no zone).")
END = typer.Option(None, "--until", help="Expected end (ISO 8601); none: until further notice.")
TEXT = typer.Option(..., "--text", help="LANG:TEXT, repeatable (en:..., ru:...).")
CAPACITY = typer.Option(None, help="Share of capacity left, 0-1 (reduced_capacity).")
LIMIT = typer.Option(None, help="New daily e-queue limit (equeue_limit).")
AS = typer.Option(..., "--as", help="E-mail of the user who publishes.")


@app.command("publish")
def publish(
    kind: str = KIND,
    severity: str = SEVERITY,
    element: list[str] = ELEMENT,
    start: datetime = START,
    end: datetime | None = END,
    text: list[str] = TEXT,
    capacity: float | None = CAPACITY,
    limit: int | None = LIMIT,
    as_user: str = AS,
) -> None:
    """Publish a notice on elements your organisation operates."""
    from corridor.store import disruptions as store

    draft = _draft(kind, severity, element, start, end, text, capacity, limit)
    with _acting(as_user) as (s, network, who):
        assert who is not None
        notice = store.publish_as(s, network, who, draft)
    out.print(f"published notice {notice.id} (version 1)", highlight=False)


@app.command("amend")
def amend(
    notice_id: str = typer.Argument(..., help="The notice to amend."),
    version: int = typer.Option(..., help="The version you amend (see `corridor notices list`)."),
    kind: str = KIND,
    severity: str = SEVERITY,
    element: list[str] = ELEMENT,
    start: datetime = START,
    end: datetime | None = END,
    text: list[str] = TEXT,
    capacity: float | None = CAPACITY,
    limit: int | None = LIMIT,
    as_user: str = AS,
) -> None:
    """Replace a notice's content; the old version stays in its history."""
    from corridor.store import disruptions as store

    draft = _draft(kind, severity, element, start, end, text, capacity, limit)
    with _acting(as_user) as (s, network, who):
        assert who is not None
        notice = store.amend_as(s, network, who, notice_id, version, draft)
    out.print(f"amended notice {notice.id} (version {notice.version})", highlight=False)


@app.command("close")
def close(
    notice_id: str = typer.Argument(..., help="The notice to end."),
    version: int = typer.Option(..., help="The version you close."),
    at: datetime | None = typer.Option(None, "--at", help="When it actually ended (default: now)."),
    as_user: str = AS,
) -> None:
    """End a notice: its effects stop at the actual end."""
    from corridor.store import disruptions as store

    with _acting(as_user) as (s, _network, who):
        assert who is not None
        notice = store.close_as(s, who, notice_id, version, at)
    out.print(
        f"closed notice {notice.id} at {notice.actual_end:%Y-%m-%d %H:%M} UTC", highlight=False
    )


@app.command("list")
def list_notices(
    active: bool = typer.Option(False, "--active", help="Only notices not yet closed."),
    element: list[str] = typer.Option([], "--element", help="KIND:ID filter, repeatable."),
    lang: str = typer.Option("en", help="Language of the texts."),
) -> None:
    """Notices, newest change first."""
    from corridor.disruptions import ElementRef, NoticeStatus
    from corridor.store import disruptions as store

    try:
        refs = [str(ElementRef.parse(e)) for e in element]
    except ValueError as exc:
        raise _fail("--element", str(exc).splitlines()[0], 2) from None
    with _acting(None) as (s, _network, _who):
        notices = store.listing(
            s,
            status=NoticeStatus.ACTIVE if active else None,
            elements=refs,
        )
    table = Table(
        "id", "v", "kind", "severity", "elements", "from", "until", "status", "issuer", "text"
    )
    for n in notices:
        table.add_row(
            n.id[:12],
            str(n.version),
            n.kind.value,
            n.severity.value,
            ", ".join(str(e) for e in n.elements),
            f"{n.starts_at:%Y-%m-%d %H:%M}",
            f"{n.end:%Y-%m-%d %H:%M}" if n.end else "-",
            n.status.value,
            n.issuer_name,
            n.text(lang),
        )
    # Piped or captured output is not cut to 80 columns: scripts read every field.
    (out if out.is_terminal else Console(width=200)).print(table)


@app.command("scenario")
def scenario(
    year: int = typer.Option(..., min=2000, max=2100, help="The year whose closures to take."),
    base: str = typer.Option("base-2024", help="The simulation scenario to build on."),
    out_file: Path = typer.Option(..., "--out", "-o", help="The scenario file (.toml) to write."),
) -> None:
    """Write a simulation scenario with the year's port and border closures from the notices,
    so `corridor simulate FILE` replays the year's disruptions on any traffic."""
    from corridor.disruptions import scenario_disruptions
    from corridor.store import disruptions as store

    with _acting(None) as (s, network, _who):
        rows = scenario_disruptions(store.listing(s, limit=100_000), network, year)
    lines = [
        f"# Closures of {year} from Corridor's disruption notices (corridor notices scenario).",
        "",
        "[scenario]",
        f'name = "notices-{year}"',
        f'description = "{base} with the {len(rows)} port and border closure(s) notified in {year}"',
        f'base = "{base}"',
        f"year = {year}",
    ]
    for row in rows:
        lines += [
            "",
            f"# notice {row['notice']}",
            "[[disruption]]",
            f'kind = "{row["kind"]}"',
            f'target = "{row["target"]}"',
            f"start_day = {row['start_day']}",
            f"days = {row['days']}",
        ]
    out_file.write_text("\n".join(lines) + "\n", encoding="utf-8")
    out.print(f"wrote {out_file}: {len(rows)} closure(s) of {year}", highlight=False)
