"""Ferry loading, sailing departure and e-queue check-in, published as EPCIS events.

Each action changes its state and captures its event in one transaction, so the repository shows
the moment exactly when it happened, and a race has one winner:

- **Loading** (the line's carrier): a *confirmed* booking is loaded once (``cap_loadings`` is keyed
  by booking), on a sailing that has not left. Event ``loading`` at the departure port, naming the
  shipment, its containers, the sailing and the booking.
- **Unloading** (the line's carrier): a loaded booking is taken off before the sailing leaves
  (the loading row goes, an ``unloading`` event records it); afterwards it can be loaded again,
  moved or cancelled like any confirmed booking.
- **Departure** (the line's carrier): a sailing departs once (``cap_departures`` is keyed by slot).
  One ``departing`` event per loaded booking.
- **Check-in** (checkpoint staff): the e-queue check-in (``corridor.store.capacity_queue``), then an
  ``arriving`` event at the checkpoint, naming the ticket and, when the truck's transit
  declaration is one the platform holds, its shipment and containers.

Loading and departure lock the sailing's row (``SELECT ... FOR UPDATE`` on PostgreSQL; SQLite has
one writer at a time), so a booking is never loaded onto a sailing that has already left.
A moment the repository refuses (a place it does not know) is logged and the action stands, as for
customs releases: the physical fact is not undone because its record could not be made.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Literal

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corridor.capacity import CapacityError
from corridor.network import Network
from corridor.store import tracking_publish
from corridor.store.accounts import Principal
from corridor.store.accounts import now as clock
from corridor.store.capacity import get_booking
from corridor.store.capacity_moments_tables import CapDeparture, CapLoading
from corridor.store.capacity_tables import CapBooking, CapSlot, QueueTicket
from corridor.store.disruptions import operators_of
from corridor.store.models import CustomsDeclaration, EpcisEpc, EpcisEvent, OrgKind
from corridor.tracking.errors import TrackingError
from corridor.tracking.events import CONTAINER_PREFIX
from corridor.tracking.publish import moment_event

log = logging.getLogger("corridor.capacity")

#: Most containers one loading names (a wagon ferry carries a few hundred at most).
MAX_CONTAINERS = 500


@dataclass(frozen=True)
class Departed:
    slot_id: str
    departed_at: datetime
    loaded: int  # bookings on board, each published as a departing event
    left_behind: int  # confirmed bookings that were not loaded


def _carrier_of(session: Session, who: Principal, slot: CapSlot, what: str) -> None:
    if who.kind is OrgKind.ADMIN:
        return
    if who.kind is not OrgKind.CARRIER or slot.operator not in operators_of(
        session, who.organisation_id
    ):
        raise CapacityError(
            "forbidden", "slot", f"only the carrier operating {slot.operator} may {what}"
        )


def _lock_slot(session: Session, slot_id: str) -> CapSlot | None:
    """The slot, locked until commit (PostgreSQL); loading and departure queue on it."""
    return session.scalar(select(CapSlot).where(CapSlot.id == slot_id).with_for_update())


def _departure(session: Session, slot_id: str) -> CapDeparture | None:
    return session.get(CapDeparture, slot_id, populate_existing=True)


def shipment_containers(session: Session, shipment_id: str) -> list[str]:
    """Container numbers known for a shipment: from its customs declarations and its events."""
    numbers: dict[str, None] = {}
    for body in session.scalars(
        select(CustomsDeclaration.body).where(CustomsDeclaration.shipment_id == shipment_id)
    ):
        for container in (body or {}).get("containers", []):
            if isinstance(container, dict) and isinstance(container.get("number"), str):
                numbers[container["number"]] = None
    for epc in session.scalars(
        select(EpcisEpc.epc)
        .join(EpcisEvent, EpcisEvent.event_id == EpcisEpc.event_id)
        .where(EpcisEvent.shipment_id == shipment_id, EpcisEpc.epc.like(CONTAINER_PREFIX + "%"))
        .distinct()
    ):
        numbers[epc.removeprefix(CONTAINER_PREFIX)] = None
    return sorted(numbers)[:MAX_CONTAINERS]


def _publish(session: Session, who: Principal, event: dict[str, object], what: str) -> bool:
    """Capture ``event`` in a savepoint: refused, it leaves nothing and is logged."""
    try:
        with session.begin_nested():
            tracking_publish.publish(session, who.organisation_id, [event])
    except TrackingError as exc:
        log.warning("%s not published as EPCIS: %s", what, exc.reason)
        return False
    return True


def _publish_loading(
    session: Session,
    who: Principal,
    kind: Literal["ferry_loading", "ferry_unloading"],
    loading: CapLoading,
    shipment_id: str | None,
    node: str,
    now: datetime,
) -> bool:
    """Publish a booking's loading or unloading at the sailing's port as an EPCIS event."""
    event = moment_event(
        kind,
        shipment_id=shipment_id,
        node=node,
        when=now,
        reference=loading.slot_id,
        containers=loading.containers,
        booking=loading.booking_id,
    )
    what = "unloading" if kind == "ferry_unloading" else "loading"
    return _publish(session, who, event, f"{what} of booking {loading.booking_id}")


def load(
    session: Session,
    who: Principal,
    booking_id: str,
    containers: list[str] | None = None,
    now: datetime | None = None,
) -> CapLoading:
    """The line's carrier loads a confirmed booking onto its sailing (409 if not confirmed,
    already loaded or the sailing departed)."""
    now = now or clock()
    row, slot = get_booking(session, who, booking_id)
    _carrier_of(session, who, slot, "load its bookings")
    _lock_slot(session, slot.id)
    departed = _departure(session, slot.id)
    if departed is not None:
        raise CapacityError(
            "conflict", "slot", f"the sailing departed at {departed.departed_at.isoformat()}"
        )
    state = session.scalar(select(CapBooking.state).where(CapBooking.id == row.id))
    if state != "confirmed":
        raise CapacityError(
            "conflict", "state", f"only a confirmed booking is loaded; this one is {state}"
        )
    if session.get(CapLoading, row.id, populate_existing=True) is not None:
        raise CapacityError("conflict", "booking_id", "the booking is already loaded")
    if containers is None:
        containers = shipment_containers(session, row.shipment_id) if row.shipment_id else []
    loading = CapLoading(
        booking_id=row.id,
        slot_id=slot.id,
        loaded_at=now,
        organisation_id=who.organisation_id,
        containers=list(containers)[:MAX_CONTAINERS],
    )
    try:
        with session.begin_nested():
            session.add(loading)
    except IntegrityError:
        raise CapacityError("conflict", "booking_id", "the booking is already loaded") from None
    _publish_loading(session, who, "ferry_loading", loading, row.shipment_id, slot.from_node, now)
    return loading


def unload(
    session: Session, who: Principal, booking_id: str, now: datetime | None = None
) -> CapLoading:
    """The line's carrier takes a loaded booking off its sailing before it departs (409 if the
    booking is not loaded or the sailing has left); an ``unloading`` event records it.

    Allowed because it happens on the quay: cargo is offloaded for stability or weight, a customs
    stop, or a wrong tally, and rolled to a later sailing. Without it a mistaken loading would
    pin a booking to the ferry for good: the forwarder could not cancel it nor the carrier move it.
    After the departure nothing is unloaded: the sailing's record is final.
    """
    now = now or clock()
    row, slot = get_booking(session, who, booking_id)
    _carrier_of(session, who, slot, "unload its bookings")
    _lock_slot(session, slot.id)
    departed = _departure(session, slot.id)
    if departed is not None:
        raise CapacityError(
            "conflict", "slot", f"the sailing departed at {departed.departed_at.isoformat()}"
        )
    loading = session.get(CapLoading, row.id, populate_existing=True)
    if loading is None:
        raise CapacityError("conflict", "state", "the booking is not loaded")
    session.delete(loading)
    session.flush()
    _publish_loading(session, who, "ferry_unloading", loading, row.shipment_id, slot.from_node, now)
    return loading


def depart(session: Session, who: Principal, slot_id: str, now: datetime | None = None) -> Departed:
    """The line's carrier reports its sailing departed (409 the second time); every loaded
    booking gets its ``departing`` event.

    The slot's ``departed_at`` is set in this transaction, under the slot's row lock, and the
    moment is read after the lock is granted: a hold's conditional UPDATE that won the lock first
    committed before this moment, and every later one sees the sailing gone and takes nothing.
    """
    slot = _lock_slot(session, slot_id)
    now = now or clock()
    if slot is None:
        raise CapacityError("not_found", "slot_id", f"no sailing {slot_id!r}")
    _carrier_of(session, who, slot, "report its departure")
    if slot.kind != "sailing":
        raise CapacityError("invalid", "slot_id", "only a sailing's departure is reported here")
    if _departure(session, slot.id) is not None:
        raise CapacityError("conflict", "slot_id", "the sailing has already departed")
    try:
        with session.begin_nested():
            session.add(
                CapDeparture(slot_id=slot.id, departed_at=now, organisation_id=who.organisation_id)
            )
    except IntegrityError:
        raise CapacityError("conflict", "slot_id", "the sailing has already departed") from None
    slot.departed_at = now
    session.flush()
    loaded = list(
        session.execute(
            select(CapLoading, CapBooking.shipment_id)
            .join(CapBooking, CapBooking.id == CapLoading.booking_id)
            .where(CapLoading.slot_id == slot.id)
            .order_by(CapLoading.loaded_at, CapLoading.booking_id)
        )
    )
    events = [
        moment_event(
            "ferry_departure",
            shipment_id=shipment_id,
            node=slot.from_node,
            when=now,
            reference=slot.id,
            containers=loading.containers,
            booking=loading.booking_id,
        )
        for loading, shipment_id in loaded
    ]
    for event in events:
        _publish(session, who, event, f"departure of {slot.id}")
    on_board = {loading.booking_id for loading, _ in loaded}
    confirmed = session.scalars(
        select(CapBooking.id).where(CapBooking.slot_id == slot.id, CapBooking.state == "confirmed")
    )
    left = sum(1 for b in confirmed if b not in on_board)
    return Departed(slot.id, now, len(loaded), left)


def departed_at(session: Session, slot_id: str) -> datetime | None:
    row = session.get(CapDeparture, slot_id)
    return row.departed_at if row is not None else None


def checkpoint_node(network: Network, checkpoint: str) -> str | None:
    """The corridor place of an e-queue checkpoint: the crossing's node, or for a border on a
    link the link's end in Kazakhstan (the e-queue is Kazakhstan's), else the link's far end."""
    crossing = network.crossings.get(checkpoint)
    if crossing is None:
        return None
    if crossing.at in network.nodes:
        return crossing.at
    link = network.links.get(crossing.at)
    if link is None:
        return None
    for end in (link.from_node, link.to_node):
        node = network.nodes.get(end)
        if node is not None and node.country == "KZ":
            return end
    return link.to_node


def publish_check_in(
    session: Session, who: Principal, network: Network, ticket: QueueTicket
) -> bool:
    """The ``arriving`` event of a checked-in ticket, in the check-in's transaction."""
    node = checkpoint_node(network, ticket.checkpoint)
    if node is None or ticket.checked_in_at is None:
        return False
    shipment_id: str | None = None
    containers: list[str] = []
    if ticket.transit_declaration:
        declaration = session.scalar(
            select(CustomsDeclaration).where(
                (CustomsDeclaration.id == ticket.transit_declaration)
                | (CustomsDeclaration.lrn == ticket.transit_declaration)
            )
        )
        if declaration is not None:
            shipment_id = declaration.shipment_id
            containers = [
                c["number"]
                for c in (declaration.body or {}).get("containers", [])
                if isinstance(c, dict) and isinstance(c.get("number"), str)
            ]
    event = moment_event(
        "equeue_checkin",
        shipment_id=shipment_id,
        node=node,
        when=ticket.checked_in_at,
        reference=ticket.slot_id,
        containers=containers,
        booking=ticket.id,
    )
    return _publish(session, who, event, f"check-in of ticket {ticket.id}")
