"""Tables of the capacity domain: slots that cannot be overbooked, bookings, events and e-queue tickets.

The guarantee against overbooking lives here, in the database: ``ck_cap_slots_not_overbooked``
rejects any row where held plus confirmed exceeds capacity, whatever code writes it, and the store
only ever changes the counters with conditional updates.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from corridor.store.models import Base


class CapSlot(Base):
    """One departure of a managed service from one node, with its counters in operator units."""

    __tablename__ = "cap_slots"
    __table_args__ = (
        CheckConstraint(
            "held >= 0 AND confirmed >= 0 AND held + confirmed <= capacity",
            name="ck_cap_slots_not_overbooked",
        ),
    )

    id: Mapped[str] = mapped_column(String(160), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))  # sailing | train
    service: Mapped[str] = mapped_column(String(64), index=True)
    operator: Mapped[str] = mapped_column(String(200), index=True)
    from_node: Mapped[str] = mapped_column(String(64), index=True)
    to_node: Mapped[str] = mapped_column(String(64))
    departure: Mapped[datetime] = mapped_column(index=True)
    unit: Mapped[str] = mapped_column(String(16))
    capacity: Mapped[int] = mapped_column(Integer)
    held: Mapped[int] = mapped_column(Integer)
    confirmed: Mapped[int] = mapped_column(Integer)
    created_at: Mapped[datetime]
    # When the carrier reported the sailing gone (a copy of ``cap_departures.departed_at`` kept on
    # the slot row): the hold's conditional UPDATE reads it, so a sailing that left early takes no
    # hold in the very statement that would take its space.
    departed_at: Mapped[datetime | None] = mapped_column(default=None)


class CapBooking(Base):
    """A forwarder's claim on a slot: held, confirmed, waitlisted, or ended (declined, moved ...)."""

    __tablename__ = "cap_bookings"
    __table_args__ = (CheckConstraint("units > 0 AND items > 0", name="ck_cap_bookings_positive"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    group_id: Mapped[str] = mapped_column(String(32), index=True)  # the legs of one itinerary
    slot_id: Mapped[str] = mapped_column(ForeignKey("cap_slots.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    shipment_id: Mapped[str | None] = mapped_column(ForeignKey("shipments.id"), index=True)
    cargo: Mapped[str] = mapped_column(String(20))
    items: Mapped[int] = mapped_column(Integer)
    units: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)
    expires_at: Mapped[datetime | None]
    moved_to: Mapped[str | None] = mapped_column(String(32))
    note: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class CapEvent(Base):
    """A change the dispatch board and forwarders hear about live; ``organisation_id`` None = public."""

    __tablename__ = "cap_events"

    seq: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    created_at: Mapped[datetime]
    kind: Mapped[str] = mapped_column(String(40))
    slot_id: Mapped[str | None] = mapped_column(String(160))
    organisation_id: Mapped[str | None] = mapped_column(String(64), index=True)
    body: Mapped[dict[str, Any]]


class CapNotice(Base):
    """A webhook message to a forwarder (waitlist promoted, booking declined ...), until delivered."""

    __tablename__ = "cap_notices"

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    body: Mapped[dict[str, Any]]
    status: Mapped[str] = mapped_column(
        String(20), index=True
    )  # pending|delivered|failed|no_webhook
    attempts: Mapped[int] = mapped_column(Integer)
    next_attempt_at: Mapped[datetime]
    last_error: Mapped[str | None] = mapped_column(String(300))


class QueueSlot(Base):
    """One hour at one road checkpoint; the same CHECK keeps it from being overbooked."""

    __tablename__ = "queue_slots"
    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="ck_queue_slots_not_overbooked"),
    )

    id: Mapped[str] = mapped_column(String(100), primary_key=True)
    checkpoint: Mapped[str] = mapped_column(String(64), index=True)
    starts_at: Mapped[datetime] = mapped_column(index=True)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer)


class QueueTicket(Base):
    __tablename__ = "queue_tickets"
    __table_args__ = (UniqueConstraint("slot_id", "plate", name="uq_queue_tickets_slot_plate"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("queue_slots.id"), index=True)
    organisation_id: Mapped[str] = mapped_column(ForeignKey("organisations.id"), index=True)
    created_by: Mapped[str] = mapped_column(ForeignKey("users.id"))
    checkpoint: Mapped[str] = mapped_column(String(64))
    starts_at: Mapped[datetime]
    plate: Mapped[str] = mapped_column(String(20))
    driver: Mapped[str] = mapped_column(String(100))
    transit_declaration: Mapped[str | None] = mapped_column(String(30))
    tier: Mapped[str] = mapped_column(String(20))
    fee_mci: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), index=True)  # booked|checked_in|no_show
    token: Mapped[str] = mapped_column(Text)
    issued_at: Mapped[datetime]
    checked_in_at: Mapped[datetime | None]
