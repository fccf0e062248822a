"""Ferry loading and departure as recorded carrier actions (migration 0011_epcisjobs).

Each is a row keyed by what it happens to (a booking is loaded once, a sailing departs once), so
the primary key makes one winner of any race; each is published as an EPCIS event in the same
transaction (``corridor.store.capacity_moments``).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from corridor.store.models import Base


class CapDeparture(Base):
    """A sailing (capacity slot) that has left its port."""

    __tablename__ = "cap_departures"

    slot_id: Mapped[str] = mapped_column(ForeignKey("cap_slots.id"), primary_key=True)
    departed_at: Mapped[datetime]
    organisation_id: Mapped[str] = mapped_column(String(64))


class CapLoading(Base):
    """A confirmed booking whose cargo is on board, with the containers the carrier tallied."""

    __tablename__ = "cap_loadings"

    booking_id: Mapped[str] = mapped_column(ForeignKey("cap_bookings.id"), primary_key=True)
    slot_id: Mapped[str] = mapped_column(ForeignKey("cap_slots.id"), index=True)
    loaded_at: Mapped[datetime]
    organisation_id: Mapped[str] = mapped_column(String(64))
    containers: Mapped[list[str]] = mapped_column(JSON)
