"""Disruption notices over HTTP: publish, amend, close, read (anyone, no login), feeds, live stream,
subscriptions, the shipments a notice hits with re-planned alternatives, and the history in figures."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response, status
from fastapi.responses import StreamingResponse
from pydantic import AnyHttpUrl, BaseModel, Field

from corridor.api.availability import Unavailable
from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.api.feeds import Feed, in_turn
from corridor.api.feeds import feed as process_feed
from corridor.api.media import ATOM, CAP, EVENT_STREAM, documented
from corridor.disruptions import (
    DisruptionError,
    ElementRef,
    Notice,
    NoticeDraft,
    NoticeStatus,
    Severity,
    SubscriptionFilter,
    affected_legs,
    atom_feed,
    cap_alert,
    check_draft,
    closed_days,
    closures_of,
    corridors_of,
    element_countries,
    in_effect,
    matches,
    port_operators,
)
from corridor.network import Network
from corridor.routing import Itinerary, pareto, planner_for
from corridor.routing import Query as RouteQuery
from corridor.store import disruptions as store
from corridor.store import shipments as shipment_store
from corridor.store.accounts import Principal
from corridor.store.db import Database
from corridor.store.models import OrgKind, Shipment, ShipmentStatus

router = APIRouter(tags=["notices"])


class NoticeAmend(BaseModel):
    version: int = Field(ge=1, description="The version you are amending (409 if it moved on).")
    notice: NoticeDraft


class NoticeClose(BaseModel):
    version: int = Field(ge=1, description="The version you are closing (409 if it moved on).")
    actual_end: datetime | None = Field(default=None, description="Default: now.")


class NoticeVersion(BaseModel):
    action: str
    changed_by: str
    changed_at: datetime
    notice: Notice


class SubscriptionCreate(BaseModel):
    filter: SubscriptionFilter = SubscriptionFilter()
    webhook_url: AnyHttpUrl | None = Field(
        default=None, description="POSTed each matching notice version (HMAC-signed); none: poll."
    )


class SubscriptionOut(BaseModel):
    id: str
    filter: SubscriptionFilter
    webhook_url: str | None
    secret: str | None = Field(description="The HMAC key, shown only when created.")
    created_at: datetime


class AffectedLeg(BaseModel):
    leg: int
    notice_id: str
    reason: str


class AffectedShipment(BaseModel):
    shipment_id: str
    reference: str
    legs: list[AffectedLeg]
    alternatives: list[Itinerary]


class OperatorsBody(BaseModel):
    operators: list[str] = Field(max_length=50)


class Kpis(BaseModel):
    year: int
    closed_days: dict[str, float]
    notices: int
    shipments_affected: int
    teu_affected: float


def _found(s: Any, notice_id: str) -> Notice:
    notice = store.get(s, notice_id)
    if notice is None:
        raise ApiError(404, "not_found", "notice_id", f"no notice {notice_id!r}")
    return notice


def active_closures(s: Any, network: Network) -> tuple[tuple[Notice, ...], tuple[Any, ...]]:
    """Every notice not yet closed or closed in the past year, and the planner's closures."""
    notices = tuple(store.listing(s, limit=2000))
    return notices, closures_of(notices, network)


# -- reading (no login: notices are public announcements) ----------------------------------
@router.get("/notices", response_model=list[Notice], summary="Disruption notices")
def list_notices(
    s: SessionDep,
    network: NetworkDep,
    status_: Annotated[NoticeStatus | None, Query(alias="status")] = None,
    element: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    country: Annotated[str | None, Query(pattern="^[A-Z]{2}$")] = None,
    corridor: Annotated[str | None, Query(max_length=64)] = None,
    active_at: datetime | None = None,
) -> list[Notice]:
    """Newest change first. ``element`` is KIND:ID (repeatable), e.g. ``node:aktau_port``."""
    refs = []
    for i, text in enumerate(element):
        try:
            refs.append(str(ElementRef.parse(text)))
        except ValueError as exc:
            raise ApiError(422, "invalid", f"element.{i}", str(exc)) from None
    if corridor is not None and corridor not in network.corridors:
        raise ApiError(422, "invalid", "corridor", f"unknown corridor {corridor!r}")
    notices = store.listing(s, status=status_, elements=refs)
    if country is not None:
        notices = [
            n for n in notices if any(country in element_countries(e, network) for e in n.elements)
        ]
    if corridor is not None:
        notices = [n for n in notices if corridor in corridors_of(n, network)]
    if active_at is not None:
        moment = active_at if active_at.tzinfo else active_at.replace(tzinfo=UTC)
        notices = [n for n in notices if in_effect(n, moment)]
    return notices


@router.get(
    "/notices/feed.atom",
    summary="Notices as an Atom feed",
    response_class=Response,
    responses=documented(ATOM, "The latest 100 notices"),
)
def feed(
    request: Request,
    s: SessionDep,
    network: NetworkDep,
    lang: str = Query("en", pattern="^[a-z]{2}$"),
) -> Response:
    base = str(request.base_url).rstrip("/")
    body = atom_feed(store.listing(s, limit=100), network, base, lang)
    return Response(body, media_type=ATOM)


#: Seconds between keep-alive comments on an idle notice stream.
KEEP_ALIVE_S = 15.0
#: Seconds between two looks of the process's watcher at the newest notice version.
NOTICE_POLL_S = 1.0


def _last_change(db: Database) -> int:
    with db.session() as s:
        return store.last_change(s)


def notice_feed(app: Any) -> Feed:
    """The process's one watcher of the notice versions (api/feeds.py)."""
    return process_feed(app, "notices", _last_change, NOTICE_POLL_S)


@router.get(
    "/notices/stream",
    summary="Live notices (server-sent events)",
    response_class=StreamingResponse,
    responses=documented(EVENT_STREAM, "Each new or changed notice as an event `notice`"),
)
async def stream(
    request: Request,
    after: Annotated[int | None, Query(ge=0, le=2**31 - 1)] = None,
    max_events: Annotated[int | None, Query(ge=1, le=100_000)] = None,
    max_seconds: Annotated[float, Query(gt=0, le=86_400)] = 3600.0,
    element: Annotated[list[str], Query(max_length=50)] = [],  # noqa: B006
    country: Annotated[list[str], Query(max_length=30)] = [],  # noqa: B006
    corridor: Annotated[list[str], Query(max_length=20)] = [],  # noqa: B006
    min_severity: Severity = Severity.INFO,
) -> StreamingResponse:
    """Each new or changed notice as an SSE event ``notice`` whose id is its version record, so
    a client that reconnects with ``after`` (or Last-Event-ID) misses nothing. The stream ends after
    ``max_events`` events or ``max_seconds``; clients reconnect. ``element`` (KIND:ID), ``country``,
    ``corridor`` and ``min_severity`` filter it as a subscription's filter does."""
    try:
        refs = tuple(ElementRef.parse(e) for e in element)
    except ValueError as exc:
        raise ApiError(422, "invalid", "element", str(exc).splitlines()[0]) from None
    try:
        wanted = SubscriptionFilter(
            elements=refs,
            countries=frozenset(country),
            corridors=frozenset(corridor),
            min_severity=min_severity,
        )
    except ValueError as exc:
        raise ApiError(422, "invalid", "country", str(exc).splitlines()[-1].strip()) from None
    network: Network = request.app.state.network
    last_id = request.headers.get("last-event-id", "")
    if after is None and last_id.isdigit() and len(last_id) < 10:
        after = int(last_id)
    db: Database = request.app.state.db
    app = request.app
    changes = notice_feed(app)

    def read(cursor: int) -> list[tuple[int, str, Notice]]:
        with db.session() as s:
            return store.changes_after(s, cursor)

    async def events() -> AsyncIterator[str]:
        # Every read takes a request turn, and one watcher per process looks for new notices
        # (api/feeds.py): open streams cannot starve the requests nor exhaust the pool.
        cursor = after
        while cursor is None:
            try:
                cursor = await in_turn(app, _last_change, db)
            except Unavailable:
                await asyncio.sleep(changes.poll_s)
        yield "retry: 2000\n\n"
        sent = 0
        loop = asyncio.get_running_loop()
        deadline = loop.time() + max_seconds
        while loop.time() < deadline:
            seen = changes.head if changes.head is not None else -1
            try:
                batch = await in_turn(app, read, cursor)
            except Unavailable:
                batch = []
            for ident, _action, notice in batch:
                cursor = ident
                if not matches(wanted, notice, network):
                    continue
                yield f"id: {ident}\nevent: notice\ndata: {notice.model_dump_json()}\n\n"
                sent += 1
                if max_events is not None and sent >= max_events:
                    return
            if batch:
                continue  # there may be more than one batch
            if await request.is_disconnected():
                return
            wait = min(KEEP_ALIVE_S, max(0.0, deadline - loop.time()))
            if await changes.wait_past(app, max(seen, cursor), wait) is None:
                yield ": keep-alive\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


# -- publishing (owners) ----------------------------------------------------------------------
@router.post(
    "/notices",
    response_model=Notice,
    status_code=status.HTTP_201_CREATED,
    summary="Publish a notice on elements you operate",
)
def publish(draft: NoticeDraft, s: SessionDep, network: NetworkDep, who: PrincipalDep) -> Notice:
    return store.publish_as(s, network, who, draft)


@router.put("/notices/{notice_id}", response_model=Notice, summary="Amend a notice")
def amend(
    notice_id: str, body: NoticeAmend, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> Notice:
    """The new content replaces the old; the old stays in the history."""
    return store.amend_as(s, network, who, notice_id, body.version, body.notice)


@router.post("/notices/{notice_id}/close", response_model=Notice, summary="End a notice")
def close(notice_id: str, body: NoticeClose, s: SessionDep, who: PrincipalDep) -> Notice:
    return store.close_as(s, who, notice_id, body.version, body.actual_end)


@router.put(
    "/organisations/{organisation_id}/operators",
    response_model=list[str],
    summary="Operator names a carrier organisation runs as (administrator)",
    tags=["admin"],
)
def set_operators(
    organisation_id: str, body: OperatorsBody, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> list[str]:
    if who.kind is not OrgKind.ADMIN:
        raise ApiError(403, "forbidden", None, "only the corridor administrator may do this")
    known = {link.operator for link in network.links.values()}
    known |= {svc.operator for svc in network.services.values()} | set(port_operators().values())
    for i, name in enumerate(body.operators):
        if name not in known:
            raise ApiError(422, "invalid", f"operators.{i}", f"no operator {name!r} in the network")
    try:
        return sorted(store.set_operators(s, organisation_id, body.operators))
    except Exception as exc:  # an unknown organisation breaks the foreign key
        raise ApiError(
            404, "not_found", "organisation_id", f"no organisation {organisation_id!r}"
        ) from exc


# -- who is hit, and what else they can do ---------------------------------------------------
def _itinerary(row: Shipment) -> Itinerary:
    return Itinerary.model_validate(row.itinerary)


def _alternatives(network: Network, row: Shipment, closures: tuple[Any, ...]) -> list[Itinerary]:
    query = RouteQuery.model_validate(row.query).model_copy(update={"closures": closures})
    try:
        return pareto(planner_for(network, query), query)[:5]
    except (
        Exception
    ):  # no route round the closure: nothing to offer, the list says so by being empty
        return []


@router.get(
    "/notices/affected/shipments",
    response_model=list[AffectedShipment],
    summary="Your planned shipments that notices hit, with re-planned alternatives",
)
def affected(s: SessionDep, network: NetworkDep, who: PrincipalDep) -> list[AffectedShipment]:
    notices, closures = active_closures(s, network)
    rows = shipment_store.list_visible(s, who, ShipmentStatus.PLANNED.value)
    out = []
    for row in rows:
        hits = affected_legs(_itinerary(row), notices, network)
        if not hits:
            continue
        out.append(
            AffectedShipment(
                shipment_id=row.id,
                reference=row.reference,
                legs=[AffectedLeg(leg=i, notice_id=n.id, reason=n.text()) for i, n in hits],
                alternatives=_alternatives(network, row, closures),
            )
        )
    return out


class Rebook(BaseModel):
    option: int = Field(ge=0, le=4, description="Index in the shipment's `alternatives`.")


class RebookOut(BaseModel):
    """The shipment cancelled and the one booked in its place."""

    cancelled: str = Field(description="Id of the cancelled shipment")
    booked: str = Field(description="Id of the new shipment, on the chosen alternative")


@router.post(
    "/notices/affected/shipments/{shipment_id}/rebook",
    response_model=RebookOut,
    status_code=status.HTTP_201_CREATED,
    summary="Book an alternative and cancel the shipment it replaces, in one step",
)
def rebook(
    shipment_id: str, body: Rebook, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> RebookOut:
    row = shipment_store.get_visible(s, who, shipment_id)
    _, closures = active_closures(s, network)
    options = _alternatives(network, row, closures)
    if body.option >= len(options):
        raise ApiError(422, "invalid", "option", f"{len(options)} alternative(s) to choose from")
    old = shipment_store.cancel(s, who, shipment_id)
    new = shipment_store.create(
        s, who, network, f"{old.reference} (re-planned)", old.query, options[body.option]
    )
    return RebookOut(cancelled=old.id, booked=new.id)


@router.get("/notices/kpis/{year}", response_model=Kpis, summary="Closed days and what they hit")
def kpis(
    year: Annotated[int, Path(ge=2000, le=2100)],
    s: SessionDep,
    network: NetworkDep,
    who: PrincipalDep,
) -> Kpis:
    notices = [
        n
        for n in store.listing(s, limit=10_000)
        if in_effect(
            n, datetime(year, 1, 1, tzinfo=UTC), datetime(year, 12, 31, 23, 59, tzinfo=UTC)
        )
    ]
    rows = shipment_store.list_visible(s, who)
    hit = [r for r in rows if affected_legs(_itinerary(r), notices, network)]
    return Kpis(
        year=year,
        closed_days=closed_days(notices, year),
        notices=len(notices),
        shipments_affected=len(hit),
        teu_affected=sum(r.teu for r in hit),
    )


# -- subscriptions ----------------------------------------------------------------------------
def _subscription(row: Any, secret: bool) -> SubscriptionOut:
    return SubscriptionOut(
        id=row.id,
        filter=SubscriptionFilter.model_validate(row.filter),
        webhook_url=row.url,
        secret=row.secret if secret else None,
        created_at=row.created_at,
    )


@router.post(
    "/notices/subscriptions",
    response_model=SubscriptionOut,
    status_code=status.HTTP_201_CREATED,
    summary="Subscribe to notices (webhook, or poll /notices/subscriptions/{id}/events)",
)
def subscribe(
    body: SubscriptionCreate, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> SubscriptionOut:
    for i, element in enumerate(body.filter.elements):
        try:
            check_draft(
                NoticeDraft(
                    kind="weather_warning",
                    severity="info",
                    elements=(element,),
                    starts_at=datetime(2026, 1, 1, tzinfo=UTC),
                    texts={"en": "-"},
                ),
                network,
            )
        except DisruptionError as exc:
            raise ApiError(422, "invalid", f"filter.elements.{i}", exc.reason) from None
    unknown = sorted(body.filter.corridors - set(network.corridors))
    if unknown:
        raise ApiError(
            422, "invalid", "filter.corridors", f"unknown corridor(s) {', '.join(unknown)}"
        )
    url = str(body.webhook_url) if body.webhook_url else None
    row = store.subscribe(s, who.organisation_id, body.filter.model_dump(mode="json"), url)
    return _subscription(row, secret=True)


@router.get(
    "/notices/subscriptions", response_model=list[SubscriptionOut], summary="Your subscriptions"
)
def my_subscriptions(s: SessionDep, who: PrincipalDep) -> list[SubscriptionOut]:
    return [_subscription(r, secret=False) for r in store.subscriptions(s, who.organisation_id)]


@router.delete(
    "/notices/subscriptions/{subscription_id}",
    status_code=status.HTTP_204_NO_CONTENT,
    summary="Unsubscribe",
)
def unsubscribe(subscription_id: str, s: SessionDep, who: PrincipalDep) -> Response:
    if not store.unsubscribe(s, who.organisation_id, subscription_id):
        raise ApiError(404, "not_found", "subscription_id", f"no subscription {subscription_id!r}")
    return Response(status_code=204)


class SubscriptionEvent(BaseModel):
    id: int
    action: str
    notice: Notice


@router.get(
    "/notices/subscriptions/{subscription_id}/events",
    response_model=list[SubscriptionEvent],
    summary="Matching notice changes since you last asked (each is returned once)",
)
def subscription_events(
    subscription_id: str, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> list[SubscriptionEvent]:
    from corridor.disruptions import matches

    row = next(
        (r for r in store.subscriptions(s, who.organisation_id) if r.id == subscription_id), None
    )
    if row is None:
        raise ApiError(404, "not_found", "subscription_id", f"no subscription {subscription_id!r}")
    wanted = SubscriptionFilter.model_validate(row.filter)
    changes = store.changes_after(s, row.cursor)
    if not changes:
        return []
    plans = _plans(s, who, wanted)
    if not store.advance(s, row.id, row.cursor, changes[-1][0]):
        raise ApiError(
            409, "conflict", "subscription_id", "another reader took these events; ask again"
        )
    return [
        SubscriptionEvent(id=i, action=a, notice=n)
        for i, a, n in changes
        if matches(wanted, n, network, plans)
    ]


def _plans(s: Any, who: Principal, wanted: SubscriptionFilter) -> dict[str, Itinerary]:
    if not wanted.shipments:
        return {}
    rows = shipment_store.list_visible(s, who)
    return {r.id: _itinerary(r) for r in rows if r.id in wanted.shipments}


# -- one notice (registered last: /notices/{notice_id} would shadow the paths above) ------
@router.get("/notices/{notice_id}", response_model=Notice, summary="One notice")
def get_notice(notice_id: str, s: SessionDep) -> Notice:
    return _found(s, notice_id)


@router.get(
    "/notices/{notice_id}/history", response_model=list[NoticeVersion], summary="Every version"
)
def notice_history(notice_id: str, s: SessionDep) -> list[NoticeVersion]:
    _found(s, notice_id)
    return [
        NoticeVersion(action=a, changed_by=by, changed_at=at, notice=n)
        for a, by, at, n in store.history(s, notice_id)
    ]


@router.get(
    "/notices/{notice_id}/cap",
    summary="The notice as an OASIS CAP 1.2 alert",
    response_class=Response,
    responses=documented(CAP, "The notice as a CAP alert"),
)
def notice_cap(notice_id: str, s: SessionDep, network: NetworkDep) -> Response:
    return Response(cap_alert(_found(s, notice_id), network), media_type=CAP)
