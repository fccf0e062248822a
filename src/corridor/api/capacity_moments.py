"""Carrier actions that report what physically happened: a booking loaded, a sailing departed.

Each is also an EPCIS event in the tracking repository (``corridor.store.capacity_moments``), so
``GET /epcis/events?EQ_shipment=...`` shows a container's loading and departure beside its rail
and customs events.
"""

from __future__ import annotations

from datetime import datetime

from fastapi import APIRouter
from pydantic import BaseModel, Field

from corridor.api.deps import PrincipalDep, SessionDep
from corridor.api.schemas import _Strict
from corridor.store import capacity_moments as moments
from corridor.store.capacity import committing
from corridor.store.capacity_moments_tables import CapLoading

router = APIRouter(prefix="/capacity", tags=["capacity"])


class LoadBody(_Strict):
    containers: list[str] | None = Field(
        default=None,
        max_length=moments.MAX_CONTAINERS,
        description="ISO 6346 numbers tallied on board; by default the shipment's known containers.",
    )


class LoadingOut(BaseModel):
    booking_id: str
    slot: str
    loaded_at: datetime
    containers: list[str]


class DepartureOut(BaseModel):
    slot: str
    departed_at: datetime
    loaded: int = Field(description="Bookings on board (each published as a departing event).")
    left_behind: int = Field(description="Confirmed bookings that were not loaded.")


def _loading(row: CapLoading) -> LoadingOut:
    """A loading record (``store.capacity_moments``) as the API answers it."""
    return LoadingOut(
        booking_id=row.booking_id,
        slot=row.slot_id,
        loaded_at=row.loaded_at,
        containers=list(row.containers),
    )


@router.post(
    "/bookings/{booking_id}/load",
    response_model=LoadingOut,
    summary="Carrier loads a confirmed booking on board (an EPCIS loading event)",
)
def load(
    booking_id: str, s: SessionDep, who: PrincipalDep, body: LoadBody | None = None
) -> LoadingOut:
    with committing(s):
        return _loading(moments.load(s, who, booking_id, body.containers if body else None))


@router.post(
    "/bookings/{booking_id}/unload",
    response_model=LoadingOut,
    summary="Carrier takes a loaded booking off before departure (an EPCIS unloading event)",
)
def unload(booking_id: str, s: SessionDep, who: PrincipalDep) -> LoadingOut:
    """Returns the loading that was undone; the booking is confirmed and not on board again."""
    with committing(s):
        return _loading(moments.unload(s, who, booking_id))


@router.post(
    "/sailings/{slot_id}/depart",
    response_model=DepartureOut,
    summary="Carrier reports its sailing departed (EPCIS departing events for what is on board)",
)
def depart(slot_id: str, s: SessionDep, who: PrincipalDep) -> DepartureOut:
    with committing(s):
        done = moments.depart(s, who, slot_id)
        return DepartureOut(
            slot=done.slot_id,
            departed_at=done.departed_at,
            loaded=done.loaded,
            left_behind=done.left_behind,
        )
