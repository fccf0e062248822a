"""Shipments over HTTP: book a planned itinerary, list, read and cancel."""

from __future__ import annotations

import threading
from collections import OrderedDict
from typing import TYPE_CHECKING, Any, Literal

from fastapi import APIRouter, Request, Response, status

from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep, TurnDep, finish, read
from corridor.api.errors import ApiError
from corridor.api.routes import plan, query_json
from corridor.api.schemas import ShipmentCreate, ShipmentOut
from corridor.routing import Itinerary
from corridor.store import shipments
from corridor.store.capacity import committing
from corridor.store.models import Shipment
from corridor.store.shipments import ShipmentError

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter(tags=["shipments"])


#: Shipments rendered as JSON, remembered per process (see :func:`rendered`).
RENDERED_SIZE = 20_000
_RENDERED: OrderedDict[tuple[Any, ...], bytes] = OrderedDict()
_RENDERED_LOCK = threading.Lock()


def rendered(row: Shipment) -> bytes:
    """``out(row)`` as the JSON FastAPI would send, remembered per process.

    Building and serialising a shipment's itinerary costs about half a millisecond of CPU, and a
    forwarder's list repeats every one of its shipments on every call: under load the list was the
    largest share of the server's CPU. A booked itinerary never changes; what may (today only a
    cancel: status and cancelled_at) is part of the key (``store.shipments.VERSION``, with the
    arrival, cost, CO2e and reference), so a row that changed is rendered anew, never served stale.
    """
    key = shipments.version(row)
    with _RENDERED_LOCK:
        found = _RENDERED.get(key)
        if found is not None:
            _RENDERED.move_to_end(key)
            return found
    body = out(row).model_dump_json().encode()
    with _RENDERED_LOCK:
        _RENDERED[key] = body
        while len(_RENDERED) > RENDERED_SIZE:
            _RENDERED.popitem(last=False)
    return body


def _bodies(s: Session, versions: list[tuple[Any, ...]], status: str | None = None) -> list[bytes]:
    """The renderings of ``versions`` (from ``store.shipments.versions_visible``), in order: the
    remembered ones as they are, the others from their rows, loaded in one query.

    A row that changed between the two reads (no common snapshot) is answered in its newer state,
    or left out when it no longer has the ``status`` asked for."""
    with _RENDERED_LOCK:
        found = [_RENDERED.get(v) for v in versions]
        for v, body in zip(versions, found, strict=True):
            if body is not None:
                _RENDERED.move_to_end(v)
    missing = [v[0] for v, body in zip(versions, found, strict=True) if body is None]
    if not missing:
        return [body for body in found if body is not None]
    rows = {row.id: row for row in shipments.load(s, missing)}
    answers: list[bytes] = []
    for v, body in zip(versions, found, strict=True):
        if body is None:
            row = rows.get(v[0])
            if row is None or (status is not None and row.status != status):
                continue
            body = rendered(row)
        answers.append(body)
    return answers


def _json(body: bytes, status_code: int = 200) -> Response:
    return Response(body, status_code=status_code, media_type="application/json")


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
) -> Response:
    """Plans ``route`` again on the server and books option ``option`` of the answer."""
    query, options = plan(network, body.route)
    if body.option >= len(options):
        raise ApiError(
            422,
            "invalid",
            "option",
            f"the route has {len(options)} option(s); pick 0-{len(options) - 1}",
        )
    row = shipments.create(s, who, network, body.reference, query_json(query), options[body.option])
    answer = rendered(row)  # and remembered for the reads
    finish(s)
    return _json(answer, status.HTTP_201_CREATED)


@router.get(
    "/shipments", response_model=list[ShipmentOut], summary="List the shipments you may see"
)
async def list_shipments(
    request: Request,
    _: TurnDep,
    who: PrincipalDep,
    status: Literal["planned", "cancelled"] | None = None,
) -> Response:
    # The versions only (a few columns, no ORM rows); the few not rendered yet in one more query.
    def work(s: Session) -> list[bytes]:
        return _bodies(s, shipments.versions_visible(s, who, status), status)

    bodies = await read(request, work)
    return _json(b"[" + b",".join(bodies) + b"]")


@router.get("/shipments/{shipment_id}", response_model=ShipmentOut, summary="One shipment")
async def get_shipment(
    shipment_id: str, request: Request, _: TurnDep, who: PrincipalDep
) -> Response:
    def work(s: Session) -> list[bytes]:
        return _bodies(s, [shipments.version_visible(s, who, shipment_id)])

    bodies = await read(request, work)
    if not bodies:  # gone between the two reads
        raise ShipmentError("not_found", "shipment_id", f"no shipment {shipment_id!r}")
    return _json(bodies[0])


@router.post(
    "/shipments/{shipment_id}/cancel", response_model=ShipmentOut, summary="Cancel a shipment"
)
def cancel_shipment(
    shipment_id: str, s: SessionDep, who: PrincipalDep, request: Request
) -> Response:
    """Cancels the shipment and releases every capacity hold and train path of its itinerary at
    once (409, nothing changed, once a leg is loaded or its sailing departed)."""
    ttl = request.app.state.settings.capacity_hold_ttl_min
    with committing(s):
        return _json(rendered(shipments.cancel(s, who, shipment_id, ttl)))
