"""Shipments: a forwarder's booking of a planned itinerary, and who may see or change it.

A forwarder sees and cancels its own organisation's shipments; a customs authority sees (read
only) the shipments whose route passes its country, so it knows in advance what is coming; the
corridor administrator sees everything. Carriers see none yet.
"""

from __future__ import annotations

import uuid
from typing import Any

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from corridor.network import Network
from corridor.routing import Itinerary
from corridor.routing.plan import node_sequence
from corridor.store.accounts import Principal, now
from corridor.store.models import OrgKind, Shipment, ShipmentStatus


class ShipmentError(ValueError):
    def __init__(self, code: str, field: str, reason: str) -> None:
        self.code = code
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


def create(
    session: Session,
    who: Principal,
    network: Network,
    reference: str,
    query: dict[str, Any],
    itinerary: Itinerary,
) -> Shipment:
    if who.kind is not OrgKind.FORWARDER:  # docs/service.md: the admin reads, never books
        raise ShipmentError("forbidden", "organisation", "only forwarders book shipments")
    countries = sorted({network.nodes[n].country for n in node_sequence(network, itinerary)})
    shipment = Shipment(
        id=uuid.uuid4().hex[:16],
        organisation_id=who.organisation_id,
        created_by=who.user_id,
        reference=reference.strip() or "-",
        origin=itinerary.origin,
        destination=itinerary.destination,
        ready_at=itinerary.ready,
        arrival_at=itinerary.arrival,
        teu=float(query["cargo"]["teu"]),
        cost_usd=itinerary.cost_usd,
        co2e_kg=itinerary.co2e_kg,
        countries=";".join(countries),
        status=ShipmentStatus.PLANNED.value,
        query=query,
        itinerary=itinerary.model_dump(mode="json"),
        created_at=now(),
        cancelled_at=None,
    )
    session.add(shipment)
    session.flush()
    return shipment


def _visible(who: Principal) -> Select[Shipment]:
    stmt = select(Shipment)
    if who.kind is OrgKind.ADMIN:
        return stmt
    if who.kind is OrgKind.FORWARDER:
        return stmt.where(Shipment.organisation_id == who.organisation_id)
    if who.kind is OrgKind.CUSTOMS and who.country:
        return stmt.where(Shipment.countries.contains(who.country))
    return stmt.where(Shipment.id.is_(None))


def list_visible(session: Session, who: Principal, status: str | None = None) -> list[Shipment]:
    stmt = _visible(who).order_by(Shipment.created_at.desc())
    if status is not None:
        stmt = stmt.where(Shipment.status == status)
    rows = list(session.scalars(stmt))
    if who.kind is OrgKind.CUSTOMS:  # `contains` is a substring test: keep exact country matches
        rows = [r for r in rows if who.country in r.countries.split(";")]
    return rows


def get_visible(session: Session, who: Principal, shipment_id: str) -> Shipment:
    """The shipment, or ShipmentError 'not_found' (also when it exists but is not the caller's)."""
    row = session.scalar(_visible(who).where(Shipment.id == shipment_id))
    if row is None or (who.kind is OrgKind.CUSTOMS and who.country not in row.countries.split(";")):
        raise ShipmentError("not_found", "shipment_id", f"no shipment {shipment_id!r}")
    return row


def cancel(session: Session, who: Principal, shipment_id: str) -> Shipment:
    row = get_visible(session, who, shipment_id)
    if who.kind is not OrgKind.FORWARDER:  # docs/service.md: the admin reads, never books
        raise ShipmentError(
            "forbidden", "shipment_id", "only the forwarder that booked it may cancel"
        )
    if row.status != ShipmentStatus.PLANNED.value:
        raise ShipmentError("conflict", "status", f"the shipment is already {row.status}")
    row.status = ShipmentStatus.CANCELLED.value
    row.cancelled_at = now()
    return row
