"""Shipments: a forwarder's booking of a planned itinerary, and who may see or change it.

A forwarder books, sees and cancels its own organisation's shipments; a customs authority sees
(read only) the shipments whose route passes its country, so it knows in advance what is coming;
the corridor administrator sees everything but books and cancels nothing (docs/service.md).
Carriers see none yet.

Every change of state is one conditional UPDATE (``... WHERE status = 'planned' AND <no released
declaration> AND <no tracking event>``): of any number of concurrent cancels exactly one matches a
row, on SQLite (writers serialised by BEGIN IMMEDIATE) and on PostgreSQL (the row lock makes the
losers re-check the condition against the committed row); the others get 409.
"""

from __future__ import annotations

import uuid
from functools import cache
from typing import Any

from sqlalchemy import Select, bindparam, exists, insert, select, update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from corridor.network import Network
from corridor.routing import Itinerary
from corridor.routing.plan import node_sequence
from corridor.store.accounts import Principal, now
from corridor.store.models import (
    CustomsDeclaration,
    EpcisEvent,
    OrgKind,
    Shipment,
    ShipmentStatus,
)

#: Declaration states after which the goods may move: the shipment can no longer be cancelled.
RELEASED_STATES = ("released", "arrived", "discharged")


class ShipmentError(ValueError):
    def __init__(self, code: str, field: str, reason: str) -> None:
        self.code = code
        self.field = field
        self.reason = reason
        super().__init__(f"{field}: {reason}")


_INSERT = insert(Shipment)


def create(
    session: Session,
    who: Principal,
    network: Network,
    reference: str,
    query: dict[str, Any],
    itinerary: Itinerary,
    hold_ttl_min: float | None = None,
) -> Shipment:
    """Book ``itinerary``; capacity is held on every managed leg at once, or nothing is booked."""
    if who.kind is not OrgKind.FORWARDER:
        raise ShipmentError("forbidden", "organisation", "only forwarders book shipments")
    countries = sorted({network.nodes[n].country for n in node_sequence(network, itinerary)})
    values: dict[str, Any] = {
        "id": uuid.uuid4().hex[:16],
        "organisation_id": who.organisation_id,
        "created_by": who.user_id,
        "reference": reference.strip() or "-",
        "origin": itinerary.origin,
        "destination": itinerary.destination,
        "ready_at": itinerary.ready,
        "arrival_at": itinerary.arrival,
        "teu": float(query["cargo"]["teu"]),
        "cost_usd": itinerary.cost_usd,
        "co2e_kg": itinerary.co2e_kg,
        "countries": ";".join(countries),
        "status": ShipmentStatus.PLANNED.value,
        "query": query,
        "itinerary": itinerary.model_dump(mode="json"),
        "created_at": now(),
        "cancelled_at": None,
    }
    # One Core INSERT on the session's connection (the ORM's unit of work cost about half the
    # CPU of a booking); the row returned is for reading (not attached to the session: load it
    # with get_visible to change it).
    session.connection().execute(_INSERT, values)
    shipment = Shipment(**values)
    from corridor.store.capacity import DEFAULT_TTL_MIN, hold_itinerary

    cargo = query.get("cargo", {})
    hold_itinerary(
        session,
        who,
        network,
        shipment.id,
        itinerary,
        str(cargo.get("container_type", "40GP")),
        int(cargo.get("containers", 1)),
        hold_ttl_min or DEFAULT_TTL_MIN,
    )
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


#: The columns that tell one state of a shipment from another: a rendering of the shipment made
#: for one set of these values stays true while they hold (the rest never changes once booked).
#: ``countries`` comes last, for the customs visibility check; it is not part of a version.
VERSION = (
    Shipment.id,
    Shipment.status,
    Shipment.cancelled_at,
    Shipment.arrival_at,
    Shipment.cost_usd,
    Shipment.co2e_kg,
    Shipment.reference,
)


def version(row: Shipment) -> tuple[Any, ...]:
    """The :data:`VERSION` values of a loaded row, as :func:`versions_visible` gives them."""
    return tuple(getattr(row, column.key) for column in VERSION)


@cache
def _versions_statement(kind: OrgKind, by_id: bool, by_status: bool) -> Select[Any]:
    """The read of :func:`versions_visible`, built once per shape (bound parameters): building a
    statement costs more than running it from the compiled cache."""
    stmt: Select[Any] = select(*VERSION, Shipment.countries)  # type: ignore[assignment]
    if kind is OrgKind.FORWARDER:
        stmt = stmt.where(Shipment.organisation_id == bindparam("organisation_id"))
    elif kind is OrgKind.CUSTOMS:
        stmt = stmt.where(Shipment.countries.contains(bindparam("country")))
    elif kind is not OrgKind.ADMIN:
        stmt = stmt.where(Shipment.id.is_(None))
    if by_id:
        stmt = stmt.where(Shipment.id == bindparam("shipment_id"))
    if by_status:
        stmt = stmt.where(Shipment.status == bindparam("status"))
    return stmt.order_by(Shipment.created_at.desc())


def versions_visible(
    session: Session, who: Principal, status: str | None = None, shipment_id: str | None = None
) -> list[tuple[Any, ...]]:
    """The :data:`VERSION` of every shipment ``who`` may see (newest first), of one ``status``
    or only ``shipment_id`` if given: one read of a few columns, no ORM objects. A caller that
    keeps renderings by version loads only the rows it lacks, with :func:`load`."""
    kind = who.kind if who.kind is not OrgKind.CUSTOMS or who.country else OrgKind.CARRIER
    stmt = _versions_statement(kind, shipment_id is not None, status is not None)
    params = {
        "organisation_id": who.organisation_id,
        "country": who.country,
        "shipment_id": shipment_id,
        "status": status,
    }
    # On the session's connection, as plain Core: the ORM's execution path costs more than the
    # query itself for a read of a few columns.
    rows = session.connection().execute(stmt, {k: v for k, v in params.items() if v is not None})
    return [
        tuple(row[:-1])
        for row in rows
        if who.kind is not OrgKind.CUSTOMS or who.country in row[-1].split(";")
    ]


def version_visible(session: Session, who: Principal, shipment_id: str) -> tuple[Any, ...]:
    """:func:`versions_visible` of one shipment, or ShipmentError 'not_found' (as get_visible)."""
    found = versions_visible(session, who, shipment_id=shipment_id)
    if not found:
        raise ShipmentError("not_found", "shipment_id", f"no shipment {shipment_id!r}")
    return found[0]


def load(session: Session, ids: list[str]) -> list[Shipment]:
    """The full rows of ``ids`` (visibility already checked by the caller), in one query."""
    if not ids:
        return []
    return list(session.scalars(select(Shipment).where(Shipment.id.in_(ids))))


def list_visible(session: Session, who: Principal, status: str | None = None) -> list[Shipment]:
    """The shipments ``who`` may see, newest first (see :func:`versions_visible` for a caller
    that keeps renderings)."""
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


def _released(shipment_id: Any) -> Any:
    return exists().where(
        CustomsDeclaration.shipment_id == shipment_id,
        CustomsDeclaration.state.in_(RELEASED_STATES),
    )


def _under_way(shipment_id: Any) -> Any:
    return exists().where(EpcisEvent.shipment_id == shipment_id, ~EpcisEvent.error_declared)


def cancel(
    session: Session, who: Principal, shipment_id: str, hold_ttl_min: float | None = None
) -> Shipment:
    """Cancel a planned shipment that is not yet released by customs nor under way, and release
    every capacity hold and train path of its itinerary in the same transaction.

    Only the forwarder that booked it may; the check and the change are one conditional UPDATE,
    so concurrent cancels (or a cancel racing a release) cannot both win. The capacity goes back
    with it (counters, waitlists promoted, board events) or, if any leg is loaded or its sailing
    has departed, nothing changes at all: 409, and the caller's transaction rolls back.
    """
    row = get_visible(session, who, shipment_id)
    if who.kind is not OrgKind.FORWARDER or row.organisation_id != who.organisation_id:
        raise ShipmentError(
            "forbidden", "shipment_id", "only the forwarder that booked it may cancel"
        )
    moment = now()
    # Plain Core on the session's connection, the statement built once (bound parameters).
    result = session.connection().execute(
        _cancel_statement(), {"shipment_id": shipment_id, "cancelled_at": moment}
    )
    if getattr(result, "rowcount", 0) != 1:
        session.refresh(row)
        if row.status != ShipmentStatus.PLANNED.value:
            raise ShipmentError("conflict", "status", f"the shipment is already {row.status}")
        if session.scalar(select(_released(shipment_id))):
            raise ShipmentError(
                "conflict", "status", "customs released its declaration: the goods may move"
            )
        raise ShipmentError("conflict", "status", "the shipment is under way (tracking events)")
    from corridor.capacity import CapacityError
    from corridor.store.capacity import DEFAULT_TTL_MIN, release_shipment

    try:
        release_shipment(session, shipment_id, hold_ttl_min or DEFAULT_TTL_MIN, moment)
    except CapacityError as exc:
        raise ShipmentError(
            "conflict", "status", f"the shipment's capacity cannot be released: {exc.reason}"
        ) from None
    # The row as the UPDATE left it, without reading it again (nothing else of it changes).
    set_committed_value(row, "status", ShipmentStatus.CANCELLED.value)
    set_committed_value(row, "cancelled_at", moment)
    return row


@cache
def _cancel_statement() -> Any:
    """The conditional UPDATE of :func:`cancel` (parameters shipment_id and cancelled_at)."""
    shipment_id: Any = bindparam("shipment_id")
    return (
        update(Shipment)
        .where(
            Shipment.id == shipment_id,
            Shipment.status == ShipmentStatus.PLANNED.value,
            ~_released(shipment_id),
            ~_under_way(shipment_id),
        )
        .values(status=ShipmentStatus.CANCELLED.value, cancelled_at=bindparam("cancelled_at"))
    )
