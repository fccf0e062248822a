"""Capacity over HTTP: free capacity, holds, carriers' decisions, the dispatch board and its live events.

Endpoints translate HTTP only; the rules are in :mod:`corridor.capacity` and the guarantees in
:mod:`corridor.store.capacity`. Refusals are CapacityError, answered as
``{"error": {"code", "field", "reason", ...}}`` with a 4xx (a full sailing adds ``next_sailings``).
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Annotated, Literal

import anyio.to_thread
import httpx
from fastapi import APIRouter, Depends, Query, Request, status
from fastapi.responses import Response, StreamingResponse
from fastapi.security import HTTPAuthorizationCredentials
from pydantic import BaseModel

from corridor.api.availability import Unavailable, take_turn
from corridor.api.capacity_schemas import (
    ActionBody,
    BoardOut,
    BookingCreate,
    BookingOut,
    CapacityOption,
    CapacityRouteOut,
    CrossingCapacityOut,
    EstimateOut,
    HeatMapOut,
    ItineraryBookingCreate,
    ItineraryBookingOut,
    LegLoadOut,
    LineOut,
    MoveBody,
    PortAlertOut,
    PortOut,
    SailingOut,
    SkippedOut,
    SweepOut,
    WaitingPoint,
)
from corridor.api.deps import (
    AdminDep,
    NetworkDep,
    PrincipalDep,
    SessionDep,
    bearer,
    database,
    identify,
)
from corridor.api.errors import ApiError
from corridor.api.feeds import feed, in_turn
from corridor.api.media import EVENT_STREAM, documented
from corridor.api.routes import query_for, query_json
from corridor.api.schemas import RouteRequest
from corridor.api.shipments import out as shipment_out
from corridor.capacity.dispatch import Line
from corridor.capacity.holds import Action
from corridor.routing import Query as RouteQuery
from corridor.settings import Settings
from corridor.store import capacity as store
from corridor.store import capacity_board, capacity_queue, shipments
from corridor.store.accounts import Principal, principal_for
from corridor.store.accounts import now as clock
from corridor.store.capacity_tables import CapBooking, CapEvent, CapSlot
from corridor.store.db import UNAVAILABLE_ERRORS, Database, unavailable
from corridor.webhooks.guard import parse_allowed

if TYPE_CHECKING:
    from sqlalchemy.orm import Session

router = APIRouter(prefix="/capacity", tags=["capacity"])
log = logging.getLogger("corridor.api.capacity")

#: A live stream ends after this long; the browser's EventSource reconnects by itself.
STREAM_S = 300.0
STREAM_POLL_S = 1.0


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


async def context(request: Request, network: NetworkDep) -> store.Context:
    """The process's capacity context (a dictionary look-up: async, so no thread hand-off)."""
    ttl = settings_of(request).capacity_hold_ttl_min
    return store.context_for(network, ttl)


ContextDep = Annotated[store.Context, Depends(context)]
DatabaseDep = Annotated[Database, Depends(database)]
SettingsDep = Annotated[Settings, Depends(settings_of)]


def booking_out(row: CapBooking, slot: CapSlot) -> BookingOut:
    return BookingOut(
        id=row.id,
        group_id=row.group_id,
        shipment_id=row.shipment_id,
        organisation_id=row.organisation_id,
        state=row.state,
        service=slot.service,
        operator=slot.operator,
        from_node=slot.from_node,
        to_node=slot.to_node,
        departure=slot.departure,
        cargo=row.cargo,
        items=row.items,
        units=row.units,
        unit=slot.unit,
        expires_at=row.expires_at,
        moved_to=row.moved_to,
        note=row.note,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


def line_out(line: Line) -> LineOut:
    return LineOut(
        kind=line.kind,
        key=line.key,
        name=line.name,
        operator=line.operator,
        from_node=line.from_node,
        to_node=line.to_node,
        departure=line.departure,
        unit=line.unit,
        capacity=line.capacity,
        held=line.held,
        confirmed=line.confirmed,
        waitlisted=line.waitlisted,
        free=line.free,
        load_factor=round(line.load_factor, 4),
    )


@router.get("/sailings", response_model=list[SailingOut], summary="Free capacity of departures")
def list_sailings(
    s: SessionDep,
    ctx: ContextDep,
    _: PrincipalDep,
    from_node: str | None = Query(default=None, max_length=64, examples=["aktau_port"]),
    to_node: str | None = Query(default=None, max_length=64, examples=["alat_port"]),
    service: str | None = Query(default=None, max_length=64),
    days: int = Query(default=14, ge=1, le=45),
    start: datetime | None = None,
) -> list[SailingOut]:
    """Departures of managed services (capacity in the operator's unit); a ferry that sails when
    loaded also shows its expected departure, estimated from the bookings held."""
    begin = start.replace(tzinfo=start.tzinfo or UTC) if start else datetime.now(UTC)
    views = store.sailings(s, ctx, from_node, to_node, begin, days, service=service)
    return [
        SailingOut(
            key=v.line.key,
            kind=v.line.kind,
            service=v.line.name,
            operator=v.line.operator,
            vessel=v.vessel,
            from_node=v.line.from_node,
            to_node=v.line.to_node,
            departure=v.line.departure,
            arrival=v.arrival,
            unit=v.line.unit,
            capacity=v.line.capacity,
            held=v.line.held,
            confirmed=v.line.confirmed,
            waitlisted=v.line.waitlisted,
            free=v.line.free,
            load_factor=round(v.line.load_factor, 4),
            expected_departure=EstimateOut(
                departure=v.estimate.departure,
                basis=v.estimate.basis.value,
                estimate=v.estimate.estimate,
            )
            if v.estimate
            else None,
        )
        for v in views
    ]


@router.post(
    "/bookings",
    response_model=BookingOut,
    status_code=status.HTTP_201_CREATED,
    summary="Hold capacity on one sailing (or join its waitlist)",
    responses={409: {"description": "Full: the error lists `next_sailings` with room"}},
)
async def create_booking(
    body: BookingCreate,
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
) -> Response:
    """Holds ``items`` of ``cargo`` on one departure until the hold expires (``expires_at``),
    unless the line confirms it first. A full departure answers 409 with the next sailings that
    have room, or, with ``waitlist``, gives a waitlisted booking."""
    # The hot path of the capacity benchmark, kept to what it needs (FastAPI's dependencies cost
    # CPU per request each): the request's turn taken here, the caller from the process's token
    # cache (as ``principal`` does), one thread hand-off for the hold, which is one statement on
    # PostgreSQL (store.hold_one) committed before it returns, and the answer rendered here,
    # once (FastAPI's check of a returned model would be a second hand-off). Nothing of it
    # blocks the event loop.
    if credentials is None:
        raise ApiError(401, "unauthorized", "Authorization", "missing bearer token")
    app = request.app
    turns = await take_turn(app)
    try:
        who = await identify(request, credentials)
        ctx = store.context_for(app.state.network, settings_of(request).capacity_hold_ttl_min)
        leg = store.LegRequest(body.service, body.from_node, body.departure, body.cargo, body.items)
        held = await anyio.to_thread.run_sync(_hold, app.state.db, who, ctx, leg, body.waitlist)
    finally:
        turns.release()
    return rendered(booking_out(held.booking, held.slot), status.HTTP_201_CREATED)


def _hold(
    db: Database, who: Principal, ctx: store.Context, leg: store.LegRequest, waitlist: bool
) -> store.Held:
    with db.session(write=True) as s:
        return store.hold_one(s, who, ctx, leg, waitlist=waitlist)


def rendered(model: BaseModel, status_code: int = status.HTTP_200_OK) -> Response:
    """``model`` as the JSON answer FastAPI would give for it (the model has been validated when it
    was built; FastAPI's check of a returned model costs a second thread hand-off)."""
    return Response(model.model_dump_json(), status_code, media_type="application/json")


def _plan(
    s: Session, ctx: store.Context, network: NetworkDep, request: RouteRequest
) -> tuple[RouteQuery, store.CapacityPlan]:
    query = query_for(network, request)
    return query, store.plan_with_capacity(s, ctx, query, request.best)


def _skipped(result: store.CapacityPlan) -> list[SkippedOut]:
    return [
        SkippedOut(
            service=service,
            from_node=a,
            to_node=b,
            departure=when,
            reason="full: not enough free capacity left for this cargo",
        )
        for service, a, b, when in result.skipped
    ]


@router.post(
    "/routes",
    response_model=CapacityRouteOut,
    summary="Plan a shipment around full sailings, with the load factor of each leg",
)
def plan_route(
    request: RouteRequest, s: SessionDep, ctx: ContextDep, network: NetworkDep, _: PrincipalDep
) -> CapacityRouteOut:
    """Like ``POST /routes``, on a timetable that knows the bookings: departures without room for
    the cargo are skipped (and listed in ``skipped_full``); each leg shows its load factor."""
    query, result = _plan(s, ctx, network, request)
    return CapacityRouteOut(
        query=query_json(query),
        options=[
            CapacityOption(
                itinerary=option,
                loads=[
                    LegLoadOut(
                        leg=load.leg,
                        service=load.service,
                        from_node=load.from_node,
                        departure=load.departure,
                        unit=load.unit,
                        capacity=load.capacity,
                        taken=load.taken,
                        load_factor=round(load.load_factor, 4),
                    )
                    for load in loads
                ],
            )
            for option, loads in zip(result.options, result.loads, strict=True)
        ],
        skipped_full=_skipped(result),
    )


@router.post(
    "/itineraries",
    response_model=ItineraryBookingOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book a planned itinerary, holding capacity on every leg at once",
)
def book_itinerary(
    body: ItineraryBookingCreate,
    s: SessionDep,
    network: NetworkDep,
    settings: SettingsDep,
    who: PrincipalDep,
) -> ItineraryBookingOut:
    """Plans ``route`` on the server, books option ``option`` as a shipment and holds every leg
    that runs on a managed service: all legs or none (409 with the next sailings with room)."""
    query, result = _plan(
        s, store.context_for(network, settings.capacity_hold_ttl_min), network, body.route
    )
    options = result.options
    if body.option >= len(options):
        raise ApiError(
            422,
            "invalid",
            "option",
            f"the route has {len(options)} option(s); pick 0-{len(options) - 1}",
        )
    with store.committing(s):
        row = shipments.create(
            s,
            who,
            network,
            body.reference,
            query_json(query),
            options[body.option],
            hold_ttl_min=settings.capacity_hold_ttl_min,
        )
        held = [store.get_booking(s, who, i) for i in store.shipment_booking_ids(s, row.id)]
        return ItineraryBookingOut(
            shipment=shipment_out(row),
            bookings=[booking_out(b, slot) for b, slot in held],
            skipped_full=_skipped(result),
        )


@router.get("/bookings", response_model=list[BookingOut], summary="Bookings you may see")
def list_bookings(
    s: SessionDep,
    who: PrincipalDep,
    state: Literal["held", "confirmed", "waitlisted", "declined", "cancelled", "expired", "moved"]
    | None = None,
) -> list[BookingOut]:
    """A forwarder sees its own bookings; a carrier those on its lines; never another forwarder's."""
    return [booking_out(b, slot) for b, slot in store.list_bookings(s, who, state)]


@router.get("/bookings/{booking_id}", response_model=BookingOut, summary="One booking")
def get_booking(booking_id: str, s: SessionDep, who: PrincipalDep) -> BookingOut:
    return booking_out(*store.get_booking(s, who, booking_id))


def _act(
    s: Session,
    ctx: store.Context,
    who: Principal,
    booking_id: str,
    action: Action,
    note: str | None,
    to_departure: datetime | None = None,
) -> BookingOut:
    with store.committing(s):
        row = store.act(s, who, ctx, booking_id, action, to_departure, note)
        return booking_out(*store.get_booking(s, who, row.id))


@router.post(
    "/bookings/{booking_id}/confirm", response_model=BookingOut, summary="Carrier confirms"
)
def confirm(
    booking_id: str,
    s: SessionDep,
    ctx: ContextDep,
    who: PrincipalDep,
    body: ActionBody | None = None,
) -> BookingOut:
    return _act(s, ctx, who, booking_id, Action.CONFIRM, body.note if body else None)


@router.post(
    "/bookings/{booking_id}/decline", response_model=BookingOut, summary="Carrier declines"
)
def decline(
    booking_id: str,
    s: SessionDep,
    ctx: ContextDep,
    who: PrincipalDep,
    body: ActionBody | None = None,
) -> BookingOut:
    return _act(s, ctx, who, booking_id, Action.DECLINE, body.note if body else None)


@router.post(
    "/bookings/{booking_id}/cancel", response_model=BookingOut, summary="Forwarder cancels"
)
def cancel(
    booking_id: str,
    s: SessionDep,
    ctx: ContextDep,
    who: PrincipalDep,
    body: ActionBody | None = None,
) -> BookingOut:
    return _act(s, ctx, who, booking_id, Action.CANCEL, body.note if body else None)


@router.post(
    "/bookings/{booking_id}/move",
    response_model=BookingOut,
    summary="Carrier moves a booking to another departure of the same service",
)
def move(
    booking_id: str, body: MoveBody, s: SessionDep, ctx: ContextDep, who: PrincipalDep
) -> BookingOut:
    return _act(s, ctx, who, booking_id, Action.MOVE, body.note, body.departure)


@router.get(
    "/board", response_model=BoardOut, summary="Dispatch board: next days and waiting stock"
)
def board(
    s: SessionDep,
    ctx: ContextDep,
    settings: SettingsDep,
    _: PrincipalDep,
    days: int = Query(default=14, ge=1, le=45),
    alert_days: float | None = Query(
        default=None, gt=0, le=365, description="Alert threshold (default: the setting)"
    ),
) -> BoardOut:
    result = capacity_board.board(
        s, ctx, days, alert_days if alert_days is not None else settings.capacity_alert_days
    )
    return BoardOut(
        start=result.start,
        days=result.days,
        lines=[line_out(line) for line in result.lines],
        heat_map=HeatMapOut(days=result.heat.days, rows=result.heat.rows, cells=result.heat.cells),
        waiting=result.waiting,
        waiting_history=[WaitingPoint(day=d, waiting=w) for d, w in result.history],
        daily_ferry_capacity={k: round(v, 2) for k, v in result.daily_capacity.items()},
        alerts=[
            PortAlertOut(
                port=a.port,
                waiting=a.waiting,
                daily_capacity=round(a.daily_capacity, 2),
                days_of_capacity=None
                if a.days_of_capacity == float("inf")
                else round(a.days_of_capacity, 2),
                threshold_days=a.threshold_days,
            )
            for a in result.alerts
        ],
        last_event=store.last_event(s),
    )


def _principal_of(db: Database, token: str) -> Principal | None:
    with db.session() as s:
        return principal_for(s, token)


def _last_event(db: Database) -> int:
    with db.session() as s:
        return store.last_event(s)


def _events_after(db: Database, who: Principal, after: int) -> list[CapEvent]:
    with db.session() as s:
        return store.events_after(s, who, after)


async def _stream_principal(
    request: Request,
    credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)],
    access_token: str | None = Query(
        default=None, max_length=200, description="For EventSource, which cannot send headers."
    ),
) -> Principal:
    token = credentials.credentials if credentials else access_token
    if not token:
        raise ApiError(401, "unauthorized", "Authorization", "missing bearer token")
    who = await in_turn(request.app, _principal_of, request.app.state.db, token)
    if who is None:
        raise ApiError(401, "unauthorized", "Authorization", "unknown, revoked or expired token")
    return who


@router.get(
    "/stream",
    summary="Live capacity events (server-sent events)",
    response_class=StreamingResponse,
    responses=documented(EVENT_STREAM, "Slot counters and your bookings' changes"),
)
async def events(
    request: Request,
    who: Annotated[Principal, Depends(_stream_principal)],
    after: int = Query(
        default=0, ge=0, le=2**31 - 1, description="Last event seen (or Last-Event-ID)"
    ),
    once: bool = Query(default=False, description="Send what is there now and close"),
) -> StreamingResponse:
    """Slot counters as they change (everyone) and your own bookings' changes (promoted from the
    waitlist, confirmed, declined, moved, expired). Reconnect with ``after`` or Last-Event-ID."""
    app = request.app
    db: Database = app.state.db
    header = request.headers.get("last-event-id", "")
    last = int(header) if header.isdigit() and len(header) < 10 else after
    board = feed(app, "capacity", _last_event, STREAM_POLL_S)

    async def stream() -> AsyncIterator[str]:
        # Reads take a request turn; one watcher per process looks for new events (api/feeds.py).
        nonlocal last
        loop = asyncio.get_running_loop()
        deadline = loop.time() + STREAM_S
        yield "retry: 2000\n\n"
        while True:
            seen = board.head if board.head is not None else -1
            try:
                batch = await in_turn(app, _events_after, db, who, last)
            except Unavailable:
                batch = []
            for event in batch:
                last = event.seq
                data = json.dumps({**event.body, "at": event.created_at.isoformat()})
                yield f"id: {event.seq}\nevent: {event.kind}\ndata: {data}\n\n"
            if once or loop.time() > deadline:
                return
            if batch:
                continue
            wait = min(STREAM_POLL_S * 15, max(0.0, deadline - loop.time()))
            if await board.wait_past(app, max(seen, last), wait) is None:
                yield ": keep-alive\n\n"

    return StreamingResponse(
        stream(),
        media_type="text/event-stream",
        headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
    )


@router.get("/ports", response_model=list[PortOut], summary="Port handling capacity and yards")
def ports(ctx: ContextDep, _: PrincipalDep) -> list[PortOut]:
    return [
        PortOut(
            node=p.node,
            name=ctx.network.nodes[p.node].name,
            handling_teu_day=p.handling_teu_day,
            handling_wagons_day=p.handling_wagons_day,
            yard_teu=p.yard_teu,
            source=list(p.source),
        )
        for p in ctx.data.ports.values()
    ]


@router.get(
    "/crossings", response_model=list[CrossingCapacityOut], summary="Border crossing capacity"
)
def crossings(ctx: ContextDep, _: PrincipalDep) -> list[CrossingCapacityOut]:
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
    ]


@router.post("/sweep", response_model=SweepOut, summary="Expire lapsed holds and no-shows now")
def sweep(s: SessionDep, ctx: ContextDep, settings: SettingsDep, _: AdminDep) -> SweepOut:
    """The server does this by itself every few seconds; this runs it at once (administrator)."""
    with store.committing(s):
        return SweepOut(
            expired_holds=store.sweep(s, ctx),
            no_shows=capacity_queue.release_no_shows(s, settings.queue_grace_min),
        )


def maintain(
    db: Database, network_ctx: store.Context, settings: Settings, client: httpx.Client | None = None
) -> None:
    """One round of the background upkeep: lapsed holds, no-shows, webhook notices.

    It writes only when something is due, found by a read first: most rounds take no write lock
    at all. When it writes, it queues behind the bookings like any writer of the process
    (``committing``); a database still busy after the busy timeout (another process holding
    SQLite's write lock, a PostgreSQL deadlock) makes it give the round up without a trace of it
    written, logged as information: the next round, a few seconds later, does the work.
    """
    now = clock()
    with db.session() as s:
        due = store.sweep_due(s, now) or capacity_queue.no_shows_due(
            s, settings.queue_grace_min, now
        )
    if due:
        try:
            with db.session(write=True) as s, store.committing(s):
                store.sweep(s, network_ctx, now)
                capacity_queue.release_no_shows(s, settings.queue_grace_min, now)
        except UNAVAILABLE_ERRORS as exc:
            if not unavailable(exc):
                raise
            log.info("capacity upkeep deferred to the next round: %s", exc)
    capacity_board.deliver_notices(
        db, settings.webhook_backoff_s, client, allowed=parse_allowed(settings.webhook_allow_nets)
    )
