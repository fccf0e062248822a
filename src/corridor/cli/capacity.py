"""``corridor capacity ...`` and ``corridor queue ...``: capacity, bookings, the board and the e-queue.

A thin layer: arguments in, the store's functions, a table or a message out. A refusal prints the
field and the reason and exits 2 for bad input (unknown or invalid values) or 1 when the request
is well formed but cannot be granted (full, departed, expired, forged ticket).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, date, datetime
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from corridor.capacity import CapacityError, CargoKind
from corridor.capacity.equeue import FeeTier

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

    from corridor.store.accounts import Principal
    from corridor.store.capacity import Context

app = typer.Typer(
    help="Capacity of sailings, trains and crossings; bookings; the dispatch board.",
    no_args_is_help=True,
)
queue_app = typer.Typer(
    help="Electronic queue at road checkpoints: book, verify, check in.", no_args_is_help=True
)
out = Console(soft_wrap=True)
err = Console(stderr=True, soft_wrap=True)

AS = typer.Option(
    ..., "--as", help="E-mail of the user acting (their organisation's rights apply)."
)
#: Codes that mean "the input itself is wrong" (exit 2); the others are refusals (exit 1).
BAD_INPUT = frozenset({"invalid", "not_found"})


def _when(text: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(text.replace("Z", "+00:00"))
    except ValueError:
        err.print(f"[red]error:[/red] {name}: not a date-time (YYYY-MM-DDTHH:MM)", highlight=False)
        raise typer.Exit(2) from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _fail(exc: CapacityError) -> typer.Exit:
    where = f"{exc.field}: " if exc.field else ""
    err.print(f"[red]error ({exc.code}):[/red] {where}{exc.reason}", highlight=False)
    for alt in exc.detail.get("next_sailings", []):
        err.print(
            f"  next with room: {alt['service']} {alt['from_node']} -> {alt['to_node']} "
            f"{alt['departure']}: {alt['free']} {alt['unit']} free",
            highlight=False,
        )
    for hour in exc.detail.get("next_hours", []):
        err.print(f"  next free hour: {hour}", highlight=False)
    return typer.Exit(2 if exc.code in BAD_INPUT else 1)


@contextmanager
def _session(as_user: str | None = None) -> Iterator[tuple[Session, Context, Principal | None]]:
    """A committed session over the configured database, the capacity context and the user."""
    from sqlalchemy import select

    from corridor.settings import get_settings
    from corridor.store.accounts import Principal
    from corridor.store.capacity import committing, context_for
    from corridor.store.db import Database
    from corridor.store.models import Organisation, OrgKind, User
    from corridor.store.network import load_stored_network
    from corridor.store.seed import prepare

    settings = get_settings()
    db = Database.from_settings(settings)
    prepare(db, settings.network_dir, demo=False)
    try:
        with db.session(write=True) as s, committing(s):
            who = None
            if as_user is not None:
                user = s.scalar(select(User).where(User.email == as_user.strip().lower()))
                if user is None:
                    err.print(f"[red]error:[/red] --as: no user {as_user}", highlight=False)
                    raise typer.Exit(2)
                org = s.get(Organisation, user.organisation_id)
                assert org is not None
                who = Principal(
                    user.id,
                    user.email,
                    user.name,
                    org.id,
                    org.name,
                    OrgKind(org.kind),
                    org.country,
                    "cli",
                )
            network = load_stored_network(s, settings.network_dir)
            yield s, context_for(network, settings.capacity_hold_ttl_min), who
    except CapacityError as exc:
        raise _fail(exc) from None
    finally:
        db.dispose()


@app.command("sailings")
def sailings_cmd(
    from_node: str = typer.Option(None, "--from", help="Departure node id (e.g. aktau_port)."),
    to_node: str = typer.Option(None, "--to", help="A later stop (e.g. alat_port)."),
    service: str = typer.Option(None, "--service", help="Only this service."),
    days: int = typer.Option(14, "--days", min=1, max=45, help="Days ahead."),
) -> None:
    """Free capacity of the next departures, with the expected departure of ferries that sail
    when loaded (an estimate)."""
    from corridor.store import capacity as store

    with _session() as (s, ctx, _):
        views = store.sailings(s, ctx, from_node, to_node, datetime.now(UTC), days, service=service)
    table = Table(title="Departures (capacity in the operator's unit)")
    for col in (
        "departure (UTC)",
        "service",
        "from -> to",
        "unit",
        "capacity",
        "held",
        "confirmed",
        "free",
        "waitlist",
        "expected",
    ):
        table.add_column(col)
    for v in views:
        line = v.line
        expected = ""
        if v.estimate is not None and v.estimate.estimate:
            expected = (
                f"~{v.estimate.departure:%Y-%m-%d %H:%M} ({v.estimate.basis.value}, estimate)"
            )
        table.add_row(
            f"{line.departure:%Y-%m-%d %H:%M}",
            line.name,
            f"{line.from_node} -> {line.to_node}",
            line.unit,
            str(line.capacity),
            str(line.held),
            str(line.confirmed),
            str(line.free),
            str(line.waitlisted),
            expected,
        )
    out.print(table)


@app.command("book")
def book_cmd(
    as_user: str = AS,
    service: str = typer.Option(..., "--service", help="Service id (e.g. asco-aktau-alat-ferry)."),
    from_node: str = typer.Option(..., "--from", help="Node the departure leaves from."),
    departure: str = typer.Option(
        ..., "--departure", help="Departure time, UTC (YYYY-MM-DDTHH:MM)."
    ),
    cargo: CargoKind = typer.Option(CargoKind.C40, "--cargo", help="What is loaded."),
    items: int = typer.Option(1, "--items", help="How many wagons, containers or trucks."),
    waitlist: bool = typer.Option(False, "--waitlist", help="Join the waitlist if full."),
) -> None:
    """Hold capacity on one departure (the line's carrier confirms it)."""
    from corridor.store import capacity as store

    when = _when(departure, "--departure")
    with _session(as_user) as (s, ctx, who):
        assert who is not None
        row = store.hold(
            s,
            who,
            ctx,
            [store.LegRequest(service, from_node, when, cargo, items)],
            waitlist=waitlist,
        )[0]
        out.print(
            f"{row.state} {row.id}: {row.units} unit(s) until {row.expires_at or '-'}",
            highlight=False,
        )


@app.command("book-route")
def book_route_cmd(
    as_user: str = AS,
    origin: str = typer.Option(..., "--from", help="Origin node, name or UN/LOCODE."),
    destination: str = typer.Option(..., "--to", help="Destination node, name or UN/LOCODE."),
    ready: str = typer.Option(None, "--ready", help="Ready time, UTC (default: now)."),
    containers: int = typer.Option(1, "--containers", min=1, help="Number of 40-ft containers."),
    via: str = typer.Option("", "--via", help="Places to pass, comma-separated (e.g. aktau_port)."),
    reference: str = typer.Option("CLI", "--reference", help="Your reference for the shipment."),
) -> None:
    """Plan a route and book its fastest option, holding capacity on every leg at once
    (``corridor route ... --book``)."""
    from corridor.routing import Cargo, Criterion, RoutingError, make_query
    from corridor.store import capacity as store
    from corridor.store import shipments

    start = _when(ready, "--ready") if ready else datetime.now(UTC)
    with _session(as_user) as (s, ctx, who):
        assert who is not None
        try:
            query = make_query(
                ctx.network,
                origin=origin,
                destination=destination,
                ready=start,
                cargo=Cargo(containers=containers),
                via=tuple((v.strip(),) for v in via.split(",") if v.strip()),
            )
            plan = store.plan_with_capacity(s, ctx, query, Criterion.TIME).options[0]
        except RoutingError as exc:
            err.print(f"[red]error:[/red] {exc}", highlight=False)
            raise typer.Exit(2) from None
        data = query.model_dump(mode="json")
        data["cargo"]["teu"] = query.cargo.teu
        row = shipments.create(s, who, ctx.network, reference, data, plan, hold_ttl_min=ctx.ttl_min)
        out.print(
            f"shipment {row.id}: {plan.origin} -> {plan.destination}, arrives {plan.arrival:%Y-%m-%d %H:%M} UTC",
            highlight=False,
        )
        from sqlalchemy import select

        from corridor.store.capacity_tables import CapBooking, CapSlot

        for booking, slot in s.execute(
            select(CapBooking, CapSlot)
            .join(CapSlot, CapSlot.id == CapBooking.slot_id)
            .where(CapBooking.shipment_id == row.id)
        ).all():
            if slot.kind == "crossing":
                out.print(
                    f"  held {booking.id}: rail border {slot.service} ({slot.from_node} -> {slot.to_node}) on {slot.departure:%Y-%m-%d}, {booking.units} train path(s)",
                    highlight=False,
                )
                continue
            out.print(
                f"  held {booking.id}: {slot.service} {slot.from_node} -> {slot.to_node} {slot.departure:%Y-%m-%d %H:%M}, {booking.units} {slot.unit}",
                highlight=False,
            )


def _act(as_user: str, booking_id: str, action: str, to_departure: str | None = None) -> None:
    from corridor.capacity.holds import Action
    from corridor.store import capacity as store

    when = _when(to_departure, "--to-departure") if to_departure else None
    with _session(as_user) as (s, ctx, who):
        assert who is not None
        row = store.act(s, who, ctx, booking_id, Action(action), when)
        out.print(f"{row.id}: {row.state}", highlight=False)


@app.command()
def confirm(booking_id: str = typer.Argument(..., help="Booking id."), as_user: str = AS) -> None:
    """The line's carrier confirms a hold."""
    _act(as_user, booking_id, "confirm")


@app.command()
def decline(booking_id: str = typer.Argument(..., help="Booking id."), as_user: str = AS) -> None:
    """The line's carrier declines a booking (capacity is freed, the waitlist promoted)."""
    _act(as_user, booking_id, "decline")


@app.command()
def cancel(booking_id: str = typer.Argument(..., help="Booking id."), as_user: str = AS) -> None:
    """The forwarder cancels its booking (capacity is freed, the waitlist promoted)."""
    _act(as_user, booking_id, "cancel")


@app.command()
def move(
    booking_id: str = typer.Argument(..., help="Booking id."),
    to_departure: str = typer.Option(..., "--to-departure", help="Departure to move to, UTC."),
    as_user: str = AS,
) -> None:
    """The line's carrier moves a booking to another departure of the same service."""
    _act(as_user, booking_id, "move", to_departure)


@app.command()
def board(
    days: int = typer.Option(14, "--days", min=1, max=45),
    alert_days: float = typer.Option(
        None, "--alert-days", help="Alert threshold (default: setting)."
    ),
) -> None:
    """The dispatch board: ferry departures per port, load factors, waiting stock and alerts."""
    from corridor.settings import get_settings
    from corridor.store.capacity_board import board as compute

    threshold = alert_days if alert_days is not None else get_settings().capacity_alert_days
    with _session() as (s, ctx, _):
        result = compute(s, ctx, days, threshold)
    table = Table(title=f"Sailings, next {days} days")
    for col in (
        "departure",
        "service",
        "from -> to",
        "capacity",
        "held",
        "confirmed",
        "waitlist",
        "load",
    ):
        table.add_column(col)
    for line in result.lines:
        if line.kind == "sailing":
            table.add_row(
                f"{line.departure:%Y-%m-%d %H:%M}",
                line.name,
                f"{line.from_node} -> {line.to_node}",
                f"{line.capacity} {line.unit}",
                str(line.held),
                str(line.confirmed),
                str(line.waitlisted),
                f"{line.load_factor:.0%}",
            )
    out.print(table)
    rail = [line for line in result.lines if line.kind == "crossing" and line.unit == "trains"]
    used = [line for line in rail if line.held or line.confirmed]
    crossings = Table(title=f"Rail border crossings, train paths held per day, next {days} days")
    for col in ("day", "crossing", "from -> to", "paths", "held", "confirmed", "free"):
        crossings.add_column(col)
    for line in used:
        crossings.add_row(
            f"{line.departure:%Y-%m-%d}",
            line.name,
            f"{line.from_node} -> {line.to_node}",
            str(line.capacity),
            str(line.held),
            str(line.confirmed),
            str(line.free),
        )
    if used:
        out.print(crossings)
    names = sorted({line.name for line in rail})
    out.print(
        f"{len(names)} rail border crossing(s) managed, {len(used)} crossing-day(s) with train "
        "paths held",
        highlight=False,
    )
    for port, count in result.waiting.items():
        out.print(
            f"{port}: {count} container(s) waiting; ferries take {result.daily_capacity[port]:.1f} a day",
            highlight=False,
        )
    for alert in result.alerts:
        out.print(
            f"[red]ALERT[/red] {alert.port}: {alert.waiting} waiting = {alert.days_of_capacity:.1f} days of ferry capacity (> {alert.threshold_days})",
            highlight=False,
        )


@app.command()
def sweep() -> None:
    """Expire lapsed holds (promoting waitlists) and release e-queue no-shows now."""
    from corridor.settings import get_settings
    from corridor.store import capacity as store
    from corridor.store.capacity_queue import release_no_shows

    with _session() as (s, ctx, _):
        expired = store.sweep(s, ctx)
        no_shows = release_no_shows(s, get_settings().queue_grace_min)
    out.print(f"{expired} hold(s) expired, {no_shows} no-show(s) released")


# -- e-queue ------------------------------------------------------------------------------------


@queue_app.command("book")
def queue_book(
    as_user: str = AS,
    checkpoint: str = typer.Option(..., "--checkpoint", help="Crossing id (e.g. x-khorgos)."),
    day: str = typer.Option(..., "--date", help="Day of the crossing, YYYY-MM-DD."),
    hour: int = typer.Option(..., "--hour", help="Hour of the day, 0-23 (UTC)."),
    plate: str = typer.Option(..., "--plate", help="Truck registration plate."),
    driver: str = typer.Option(..., "--driver", help="Driver's name."),
    declaration: str = typer.Option(
        None, "--declaration", help="Transit declaration (MRN), if any."
    ),
    tier: FeeTier = typer.Option(FeeTier.STANDARD, "--tier", help="Fee tier."),
    qr: Path = typer.Option(None, "--qr", help="Write the ticket's QR code here (.svg or .png)."),
) -> None:
    """Book a truck into an hour slot; prints the signed ticket."""
    from corridor.capacity.equeue import qr_png, qr_svg
    from corridor.settings import get_settings
    from corridor.store import capacity_queue

    try:
        when = date.fromisoformat(day)
    except ValueError:
        err.print("[red]error:[/red] --date: not a date (YYYY-MM-DD)", highlight=False)
        raise typer.Exit(2) from None
    with _session(as_user) as (s, ctx, who):
        assert who is not None
        row = capacity_queue.book(
            s,
            who,
            ctx,
            get_settings().keys_dir,
            checkpoint,
            when,
            hour,
            plate,
            driver,
            declaration,
            tier,
        )
    out.print(
        f"ticket {row.id}: {row.checkpoint} {row.starts_at:%Y-%m-%d %H}:00 UTC, {row.plate}, fee {row.fee_mci} MCI",
        highlight=False,
    )
    typer.echo(row.token)
    if qr is not None:
        try:
            if qr.suffix.lower() == ".png":
                qr.write_bytes(qr_png(row.token))
            else:
                qr.write_text(qr_svg(row.token), encoding="utf-8")
        except OSError as exc:
            err.print(f"[red]error:[/red] --qr {qr}: {exc.strerror}", highlight=False)
            raise typer.Exit(2) from None
        err.print(f"wrote {qr}")


@queue_app.command("verify")
def queue_verify(
    ticket: str = typer.Argument(..., help="The ticket text (CQ1.…), as scanned from its QR code."),
    public_key: str = typer.Option(
        None, "--public-key", help="The platform's public key (hex); default: this installation's."
    ),
) -> None:
    """Verify a ticket offline: signature and content, with no network and no database."""
    from corridor.capacity.equeue import verify

    try:
        if public_key is None:
            from corridor.settings import get_settings
            from corridor.store.capacity_queue import public_key_hex

            public_key = public_key_hex(get_settings().keys_dir)
        from corridor.store.capacity_queue import public_keys

        checked = verify(ticket, public_keys(public_key))
    except CapacityError as exc:
        raise _fail(exc) from None
    out.print(
        f"[green]VALID[/green] ticket {checked.ticket_id}: {checked.plate} ({checked.driver}) at {checked.checkpoint}, "
        f"slot {checked.slot_start}, {checked.tier} ({checked.fee_mci} MCI)"
        + (f", transit {checked.transit_declaration}" if checked.transit_declaration else ""),
        highlight=False,
    )


@queue_app.command("checkin")
def queue_checkin(
    ticket: str = typer.Argument(..., help="The ticket text (CQ1.…)."),
    as_user: str = AS,
) -> None:
    """Check a truck in at the checkpoint (checkpoint staff)."""
    from corridor.settings import get_settings
    from corridor.store import capacity_queue

    settings = get_settings()
    with _session(as_user) as (s, _ctx, who):
        assert who is not None
        row = capacity_queue.check_in(s, who, settings.keys_dir, ticket, settings.queue_grace_min)
    out.print(
        f"checked in: {row.plate} at {row.checkpoint}, {row.checked_in_at:%Y-%m-%d %H:%M} UTC",
        highlight=False,
    )


@queue_app.command("public-key")
def queue_public_key() -> None:
    """Print the public key checkpoints verify tickets with (give it to them once)."""
    from corridor.settings import get_settings
    from corridor.store.capacity_queue import public_key_hex

    typer.echo(public_key_hex(get_settings().keys_dir))
