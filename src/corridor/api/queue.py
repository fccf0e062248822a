"""The electronic queue at road checkpoints over HTTP: hours, tickets with QR codes, verify, check-in."""

from __future__ import annotations

from datetime import date, datetime
from typing import Annotated

from fastapi import APIRouter, Query, status
from fastapi.responses import Response

from corridor.api.capacity import ContextDep, SettingsDep
from corridor.api.capacity_schemas import (
    CrossingCapacityOut,
    HourOut,
    PublicKeyOut,
    TicketCreate,
    TicketIn,
    TicketOut,
    VerifiedTicket,
)
from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.media import PNG, SVG, documented
from corridor.capacity.equeue import MCI_KZT_2025, qr_png, qr_svg, verify
from corridor.store import capacity_moments
from corridor.store import capacity_queue as queue
from corridor.store.capacity import committing as store_committing
from corridor.store.capacity_tables import QueueTicket

router = APIRouter(prefix="/queue", tags=["e-queue"])


def ticket_out(row: QueueTicket) -> TicketOut:
    return TicketOut(
        id=row.id,
        checkpoint=row.checkpoint,
        starts_at=row.starts_at,
        plate=row.plate,
        driver=row.driver,
        transit_declaration=row.transit_declaration,
        tier=row.tier,
        fee_mci=row.fee_mci,
        fee_kzt_2025=row.fee_mci * MCI_KZT_2025,
        state=row.state,
        token=row.token,
        issued_at=row.issued_at,
        checked_in_at=row.checked_in_at,
    )


@router.get(
    "/checkpoints", response_model=list[CrossingCapacityOut], summary="Checkpoints with an e-queue"
)
def checkpoints(ctx: ContextDep, _: PrincipalDep) -> list[CrossingCapacityOut]:
    return [
        CrossingCapacityOut(
            crossing=c.crossing,
            name=ctx.network.crossings[c.crossing].name,
            trains_per_day=c.trains_per_day,
            road_lanes=c.road_lanes,
            trucks_per_hour=c.trucks_per_hour,
            equeue=c.equeue,
            source=list(c.source),
        )
        for c in ctx.data.crossings.values()
        if c.equeue
    ]


@router.get(
    "/checkpoints/{checkpoint}/hours",
    response_model=list[HourOut],
    summary="The hour slots of a day at a checkpoint",
)
def hours(
    checkpoint: str,
    s: SessionDep,
    ctx: ContextDep,
    _: PrincipalDep,
    day: Annotated[date, Query(alias="date")],
) -> list[HourOut]:
    return [
        HourOut(starts_at=h.starts_at, capacity=h.capacity, booked=h.booked, free=h.free)
        for h in queue.hours(s, ctx, checkpoint, day)
    ]


@router.post(
    "/tickets",
    response_model=TicketOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book a truck into an hour slot; the answer carries the signed ticket",
    responses={409: {"description": "The hour is full: the error lists `next_hours` with room"}},
)
def book(
    body: TicketCreate, s: SessionDep, ctx: ContextDep, settings: SettingsDep, who: PrincipalDep
) -> TicketOut:
    with store_committing(s):
        return ticket_out(
            queue.book(
                s,
                who,
                ctx,
                settings.keys_dir,
                body.checkpoint,
                body.date,
                body.hour,
                body.plate,
                body.driver,
                body.transit_declaration,
                body.tier,
            )
        )


@router.get("/tickets", response_model=list[TicketOut], summary="Your tickets")
def list_tickets(s: SessionDep, who: PrincipalDep) -> list[TicketOut]:
    return [ticket_out(row) for row in queue.list_tickets(s, who)]


@router.get("/tickets/{ticket_id}", response_model=TicketOut, summary="One ticket")
def get_ticket(ticket_id: str, s: SessionDep, who: PrincipalDep) -> TicketOut:
    return ticket_out(queue.get_ticket(s, who, ticket_id))


@router.get(
    "/tickets/{ticket_id}/qr.svg",
    response_class=Response,
    responses=documented(SVG, "The QR code of the ticket's signed token"),
    summary="The ticket as a QR code (SVG)",
)
def ticket_svg(ticket_id: str, s: SessionDep, who: PrincipalDep) -> Response:
    row = queue.get_ticket(s, who, ticket_id)
    return Response(qr_svg(row.token), media_type="image/svg+xml")


@router.get(
    "/tickets/{ticket_id}/qr.png",
    response_class=Response,
    responses=documented(PNG, "The QR code of the ticket's signed token"),
    summary="The ticket as a QR code (PNG)",
)
def ticket_png(ticket_id: str, s: SessionDep, who: PrincipalDep) -> Response:
    row = queue.get_ticket(s, who, ticket_id)
    return Response(qr_png(row.token), media_type="image/png")


@router.get("/public-key", response_model=PublicKeyOut, summary="Key to verify tickets offline")
def public_key(settings: SettingsDep) -> PublicKeyOut:
    return PublicKeyOut(key_id=queue.KEY_ID, public_key=queue.public_key_hex(settings.keys_dir))


@router.post("/verify", response_model=VerifiedTicket, summary="Check a ticket's signature")
def verify_ticket(body: TicketIn, settings: SettingsDep) -> VerifiedTicket:
    """The same check a checkpoint runs offline (``corridor queue verify``); a forged or altered
    ticket is a 422 naming the field ``ticket`` and why."""
    ticket = verify(body.ticket, queue.public_keys(queue.public_key_hex(settings.keys_dir)))
    return VerifiedTicket(
        valid=True,
        ticket_id=ticket.ticket_id,
        checkpoint=ticket.checkpoint,
        slot_start=datetime.fromisoformat(ticket.slot_start),
        plate=ticket.plate,
        driver=ticket.driver,
        transit_declaration=ticket.transit_declaration,
        tier=ticket.tier,
        fee_mci=ticket.fee_mci,
        key_id=ticket.key_id,
    )


@router.post("/checkin", response_model=TicketOut, summary="Check a truck in at the checkpoint")
def check_in(
    body: TicketIn, s: SessionDep, settings: SettingsDep, who: PrincipalDep, network: NetworkDep
) -> TicketOut:
    """Also an EPCIS ``arriving`` event at the checkpoint, in the same transaction."""
    with store_committing(s):
        ticket = queue.check_in(s, who, settings.keys_dir, body.ticket, settings.queue_grace_min)
        capacity_moments.publish_check_in(s, who, network, ticket)
        return ticket_out(ticket)
