"""Shipments over HTTP: book a planned itinerary, list, read and cancel."""

from __future__ import annotations

from typing import Literal

from fastapi import APIRouter, Request, status

from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.api.routes import plan, query_json
from corridor.api.schemas import ShipmentCreate, ShipmentOut
from corridor.routing import Itinerary
from corridor.store import shipments
from corridor.store.capacity import committing
from corridor.store.models import Shipment

router = APIRouter(tags=["shipments"])


def out(row: Shipment) -> ShipmentOut:
    return ShipmentOut(
        id=row.id,
        reference=row.reference,
        organisation_id=row.organisation_id,
        origin=row.origin,
        destination=row.destination,
        ready_at=row.ready_at,
        arrival_at=row.arrival_at,
        teu=row.teu,
        cost_usd=row.cost_usd,
        co2e_kg=row.co2e_kg,
        countries=row.countries.split(";"),
        status=row.status,
        created_at=row.created_at,
        cancelled_at=row.cancelled_at,
        itinerary=Itinerary.model_validate(row.itinerary),
    )


@router.post(
    "/shipments",
    response_model=ShipmentOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book a shipment on a planned itinerary",
)
def create_shipment(
    body: ShipmentCreate, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> ShipmentOut:
    """Plans ``route`` again on the server and books option ``option`` of the answer."""
    query, options = plan(network, body.route)
    if body.option >= len(options):
        raise ApiError(
            422,
            "invalid",
            "option",
            f"the route has {len(options)} option(s); pick 0-{len(options) - 1}",
        )
    return out(
        shipments.create(s, who, network, body.reference, query_json(query), options[body.option])
    )


@router.get(
    "/shipments", response_model=list[ShipmentOut], summary="List the shipments you may see"
)
def list_shipments(
    s: SessionDep, who: PrincipalDep, status: Literal["planned", "cancelled"] | None = None
) -> list[ShipmentOut]:
    return [out(row) for row in shipments.list_visible(s, who, status)]


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut, summary="One shipment")
def get_shipment(shipment_id: str, s: SessionDep, who: PrincipalDep) -> ShipmentOut:
    return out(shipments.get_visible(s, who, shipment_id))


@router.post(
    "/shipments/{shipment_id}/cancel", response_model=ShipmentOut, summary="Cancel a shipment"
)
def cancel_shipment(
    shipment_id: str, s: SessionDep, who: PrincipalDep, request: Request
) -> ShipmentOut:
    """Cancels the shipment and releases every capacity hold and train path of its itinerary at
    once (409, nothing changed, once a leg is loaded or its sailing departed)."""
    ttl = request.app.state.settings.capacity_hold_ttl_min
    with committing(s):
        return out(shipments.cancel(s, who, shipment_id, ttl))
