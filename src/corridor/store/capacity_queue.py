"""The electronic queue at road checkpoints in the database: hour slots, tickets, check-in, no-shows.

An hour slot is taken with the same conditional UPDATE and CHECK as a sailing, so the checkpoint's
trucks per hour is never exceeded. Tickets are signed with the platform's e-queue key, whose
private half is a PEM file under ``<var_dir>/keys`` and whose public half anyone may download
to verify tickets offline.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corridor.capacity import CapacityError
from corridor.capacity.equeue import (
    FEE_MCI,
    FeeTier,
    Ticket,
    check_road,
    check_truck,
    no_show,
    sign,
    slot_start,
    verify,
)
from corridor.store.accounts import Principal
from corridor.store.accounts import now as clock
from corridor.store.capacity import Context
from corridor.store.capacity_tables import QueueSlot, QueueTicket
from corridor.store.models import OrgKind

KEY_ID = "corridor-equeue-ed25519"
_keys: dict[str, Ed25519PrivateKey] = {}


def signing_key(keys_dir: Path) -> Ed25519PrivateKey:
    """The platform's e-queue signing key, created on first use."""
    path = keys_dir / f"{KEY_ID}.pem"
    cached = _keys.get(str(path))
    if cached is not None:
        return cached
    if path.is_file():
        loaded = serialization.load_pem_private_key(path.read_bytes(), password=None)
        if not isinstance(loaded, Ed25519PrivateKey):
            raise ValueError(f"{path}: not an Ed25519 key")
        key = loaded
    else:
        key = Ed25519PrivateKey.generate()
        keys_dir.mkdir(parents=True, exist_ok=True)
        path.write_bytes(
            key.private_bytes(
                serialization.Encoding.PEM,
                serialization.PrivateFormat.PKCS8,
                serialization.NoEncryption(),
            )
        )
        path.chmod(0o600)
    _keys[str(path)] = key
    return key


def public_key_hex(keys_dir: Path) -> str:
    return (
        signing_key(keys_dir)
        .public_key()
        .public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        .hex()
    )


def public_keys(hex_key: str) -> dict[str, Ed25519PublicKey]:
    """The verification keys for :func:`corridor.capacity.equeue.verify`, from the published hex."""
    try:
        return {KEY_ID: Ed25519PublicKey.from_public_bytes(bytes.fromhex(hex_key.strip()))}
    except ValueError:
        raise CapacityError("invalid", "public_key", "64 hex digits (a raw Ed25519 key)") from None


def _slot_id(checkpoint: str, start: datetime) -> str:
    return f"{checkpoint}|{start:%Y%m%dT%H}"


@dataclass(frozen=True)
class HourView:
    starts_at: datetime
    capacity: int
    booked: int

    @property
    def free(self) -> int:
        return max(0, self.capacity - self.booked)


def hours(session: Session, ctx: Context, checkpoint: str, day: date) -> list[HourView]:
    """The 24 hour slots of a day at a checkpoint, with what is booked."""
    crossing = check_road(ctx.data.crossings.get(checkpoint), checkpoint)
    starts = [datetime(day.year, day.month, day.day, h, tzinfo=UTC) for h in range(24)]
    rows = {
        r.id: r
        for r in session.scalars(
            select(QueueSlot).where(QueueSlot.id.in_([_slot_id(checkpoint, s) for s in starts]))
        )
    }
    out = []
    for start in starts:
        row = rows.get(_slot_id(checkpoint, start))
        out.append(
            HourView(
                start, row.capacity if row else crossing.trucks_per_hour, row.booked if row else 0
            )
        )
    return out


def book(
    session: Session,
    who: Principal,
    ctx: Context,
    keys_dir: Path,
    checkpoint: str,
    day: date,
    hour: int,
    plate: str,
    driver: str,
    transit_declaration: str | None,
    tier: FeeTier,
    now: datetime | None = None,
) -> QueueTicket:
    """Book one truck into one hour at a checkpoint and issue its signed ticket."""
    now = now or clock()
    if who.kind not in (OrgKind.CARRIER, OrgKind.FORWARDER):
        raise CapacityError("forbidden", "organisation", "only carriers and forwarders book slots")
    crossing = check_road(ctx.data.crossings.get(checkpoint), checkpoint)
    truck = check_truck(plate, driver, transit_declaration)
    start = slot_start(day, hour, now)
    slot_id = _slot_id(checkpoint, start)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    session.execute(
        insert(QueueSlot)
        .values(
            id=slot_id,
            checkpoint=checkpoint,
            starts_at=start,
            capacity=crossing.trucks_per_hour,
            booked=0,
        )
        .on_conflict_do_nothing(index_elements=["id"])
    )
    taken = session.execute(
        update(QueueSlot)
        .where(QueueSlot.id == slot_id, QueueSlot.booked + 1 <= QueueSlot.capacity)
        .values(booked=QueueSlot.booked + 1)
        .execution_options(synchronize_session=False)
    )
    if taken.rowcount != 1:  # type: ignore[attr-defined]
        free = [
            h.starts_at.isoformat()
            for h in hours(session, ctx, checkpoint, day)
            if h.starts_at > start and h.free > 0
        ][:3]
        raise CapacityError(
            "full",
            "hour",
            f"{checkpoint} is fully booked at {start:%Y-%m-%d %H}:00 UTC",
            {"next_hours": free},
        )
    ticket_id = uuid.uuid4().hex[:20]
    ticket = Ticket(
        ticket_id=ticket_id,
        checkpoint=checkpoint,
        slot_start=start.isoformat(),
        plate=truck.plate,
        driver=truck.driver,
        transit_declaration=truck.transit_declaration,
        tier=tier.value,
        fee_mci=FEE_MCI[tier],
        issued_at=now.astimezone(UTC).replace(microsecond=0).isoformat(),
        key_id=KEY_ID,
    )
    row = QueueTicket(
        id=ticket_id,
        slot_id=slot_id,
        organisation_id=who.organisation_id,
        created_by=who.user_id,
        checkpoint=checkpoint,
        starts_at=start,
        plate=truck.plate,
        driver=truck.driver,
        transit_declaration=truck.transit_declaration,
        tier=tier.value,
        fee_mci=FEE_MCI[tier],
        state="booked",
        token=sign(ticket, signing_key(keys_dir)),
        issued_at=now,
        checked_in_at=None,
    )
    session.add(row)
    try:
        session.flush()
    except IntegrityError:
        raise CapacityError(
            "conflict", "plate", f"{truck.plate} already has a ticket for that hour"
        ) from None
    return row


def get_ticket(session: Session, who: Principal, ticket_id: str) -> QueueTicket:
    row = session.get(QueueTicket, ticket_id)
    if row is None or (
        who.kind not in (OrgKind.ADMIN, OrgKind.CUSTOMS)
        and row.organisation_id != who.organisation_id
    ):
        raise CapacityError("not_found", "ticket_id", f"no ticket {ticket_id!r}")
    return row


def list_tickets(session: Session, who: Principal) -> list[QueueTicket]:
    stmt = select(QueueTicket).order_by(QueueTicket.starts_at.desc()).limit(500)
    if who.kind not in (OrgKind.ADMIN, OrgKind.CUSTOMS):
        stmt = stmt.where(QueueTicket.organisation_id == who.organisation_id)
    return list(session.scalars(stmt))


def check_in(
    session: Session,
    who: Principal,
    keys_dir: Path,
    token: str,
    grace_min: float,
    now: datetime | None = None,
) -> QueueTicket:
    """The checkpoint scans a ticket: it must verify, exist, and the truck be on time (±grace)."""
    now = now or clock()
    if who.kind not in (OrgKind.CUSTOMS, OrgKind.ADMIN):
        raise CapacityError("forbidden", "organisation", "only checkpoint staff check trucks in")
    ticket = verify(token, public_keys(public_key_hex(keys_dir)))
    row = session.get(QueueTicket, ticket.ticket_id)
    if row is None:
        raise CapacityError("not_found", "ticket", "the ticket is genuine but unknown here")
    start = datetime.fromisoformat(ticket.slot_start)
    if now < start - timedelta(minutes=grace_min):
        raise CapacityError("conflict", "ticket", f"too early: the slot starts {start.isoformat()}")
    if no_show(start, grace_min, False, now):
        raise CapacityError("expired", "ticket", "the slot and its grace period are over")
    changed = session.execute(
        update(QueueTicket)
        .where(QueueTicket.id == row.id, QueueTicket.state == "booked")
        .values(state="checked_in", checked_in_at=now)
        .execution_options(synchronize_session=False)
    )
    if changed.rowcount != 1:  # type: ignore[attr-defined]
        session.refresh(row)
        raise CapacityError("conflict", "ticket", f"the ticket is already {row.state}")
    session.refresh(row)
    return row


def no_shows_due(session: Session, grace_min: float, now: datetime | None = None) -> bool:
    """Whether a ticket's truck is late past the grace period (a read, before any write lock)."""
    cutoff = (now or clock()) - timedelta(hours=1, minutes=grace_min)
    found = session.scalar(
        select(QueueTicket.id)
        .where(QueueTicket.state == "booked", QueueTicket.starts_at <= cutoff)
        .limit(1)
    )
    return found is not None


def release_no_shows(session: Session, grace_min: float, now: datetime | None = None) -> int:
    """Mark tickets whose truck did not come as no-shows and give their slot back."""
    now = now or clock()
    cutoff = now - timedelta(hours=1, minutes=grace_min)
    due = list(
        session.scalars(
            select(QueueTicket).where(
                QueueTicket.state == "booked", QueueTicket.starts_at <= cutoff
            )
        )
    )
    released = 0
    for ticket in due:
        changed = session.execute(
            update(QueueTicket)
            .where(QueueTicket.id == ticket.id, QueueTicket.state == "booked")
            .values(state="no_show")
            .execution_options(synchronize_session=False)
        )
        if changed.rowcount == 1:  # type: ignore[attr-defined]
            session.execute(
                update(QueueSlot)
                .where(QueueSlot.id == ticket.slot_id)
                .values(booked=QueueSlot.booked - 1)
                .execution_options(synchronize_session=False)
            )
            released += 1
    return released
