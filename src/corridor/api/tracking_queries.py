"""Named queries and subscriptions of the EPCIS binding: ``/queries``, webhooks and WebSockets."""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

import orjson
from fastapi import APIRouter, Request, WebSocket, WebSocketDisconnect
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from corridor.api.availability import Unavailable
from corridor.api.feeds import feed, in_turn
from corridor.api.tracking_epcis import EpcisDocumentModel, answer_query
from corridor.api.tracking_http import (
    CallerDep,
    database_of,
    json_response,
    negotiate,
    problem,
    settings_of,
)
from corridor.store import tracking_query
from corridor.store import tracking_subscriptions as subs
from corridor.store.accounts import Principal, principal_for
from corridor.store.db import Database
from corridor.store.tracking_tables import EpcisNamedQuery, EpcisSubscription
from corridor.tracking.errors import TrackingError
from corridor.tracking.query import parse as parse_query
from corridor.webhooks.guard import parse_allowed

router = APIRouter(prefix="/epcis", tags=["epcis"])
PREFIX = "/api/v1/epcis"
#: How often the process's watcher looks for newly captured events (seconds).
WS_POLL_S = 0.2
#: Longest wait of an idle subscription before it looks whether its client is still there.
WS_IDLE_S = 1.0


class QueryCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9_.-]+$")
    query: dict[str, str] = Field(description="Simple event query parameters, as in GET /events")


class QueryView(BaseModel):
    name: str
    query: dict[str, str]
    createdAt: str


class SubscriptionCreate(BaseModel):
    model_config = ConfigDict(extra="ignore")

    dest: str | None = Field(
        default=None,
        max_length=500,
        description="Webhook URL; leave out for a WebSocket subscription",
    )
    reportFromStart: bool = Field(default=False, description="Deliver the events stored before too")


class SubscriptionView(BaseModel):
    subscriptionID: str
    queryName: str
    dest: str | None
    position: int
    createdAt: str
    lastError: str | None
    secret: str | None = Field(
        default=None, description="HMAC key of the signature header (shown once)"
    )


def _query_view(row: EpcisNamedQuery) -> dict[str, Any]:
    return {"name": row.name, "query": row.params, "createdAt": row.created_at.isoformat()}


def _sub_view(row: EpcisSubscription, name: str, secret: str | None = None) -> dict[str, Any]:
    return {
        "subscriptionID": row.id,
        "queryName": name,
        "dest": row.dest,
        "position": row.position,
        "createdAt": row.created_at.isoformat(),
        "lastError": row.last_error,
        "secret": secret,
    }


@router.get("/queries", response_model=list[QueryView], summary="Your organisation's named queries")
def list_queries(request: Request, who: CallerDep) -> Response:
    with database_of(request).session() as s:
        return json_response([_query_view(q) for q in subs.queries(s, who)], request)


@router.post("/queries", status_code=201, response_model=QueryView, summary="Create a named query")
def create_query(body: QueryCreate, request: Request, who: CallerDep) -> Response:
    try:
        with database_of(request).write_session() as s:
            row = subs.create_query(s, who, body.name, body.query)
            view = _query_view(row)
    except TrackingError as exc:
        return problem(exc)
    return json_response(view, request, 201, {"Location": f"{PREFIX}/queries/{body.name}"})


@router.get("/queries/{queryName}", response_model=QueryView, summary="A named query")
def get_query(queryName: str, request: Request, who: CallerDep) -> Response:
    try:
        with database_of(request).session() as s:
            return json_response(_query_view(subs.get_query(s, who, queryName)), request)
    except TrackingError as exc:
        return problem(exc)


@router.delete(
    "/queries/{queryName}", status_code=204, summary="Delete a named query and its subscriptions"
)
def delete_query(queryName: str, request: Request, who: CallerDep) -> Response:
    try:
        with database_of(request).write_session() as s:
            subs.delete_query(s, who, queryName)
    except TrackingError as exc:
        return problem(exc)
    return Response(status_code=204)


@router.get(
    "/queries/{queryName}/events", response_model=EpcisDocumentModel, summary="Run a named query"
)
def run_query(queryName: str, request: Request, who: CallerDep) -> Response:
    try:
        negotiate(request, xml=True)
        with database_of(request).session() as s:
            params = dict(subs.get_query(s, who, queryName).params)
        return answer_query(request, who, parse_query(params), queryName)
    except TrackingError as exc:
        return problem(exc)


@router.get(
    "/queries/{queryName}/subscriptions",
    response_model=list[SubscriptionView],
    summary="Subscriptions of a named query",
)
def list_subscriptions(queryName: str, request: Request, who: CallerDep) -> Response:
    try:
        with database_of(request).session() as s:
            rows = subs.subscriptions(s, who, queryName)
            return json_response([_sub_view(r, queryName) for r in rows], request)
    except TrackingError as exc:
        return problem(exc)


@router.post(
    "/queries/{queryName}/subscriptions",
    status_code=201,
    response_model=SubscriptionView,
    summary="Subscribe to a named query by webhook (dest) or WebSocket (no dest)",
)
def subscribe(
    queryName: str, body: SubscriptionCreate, request: Request, who: CallerDep
) -> Response:
    settings = settings_of(request)
    try:
        with database_of(request).write_session() as s:
            row, secret = subs.subscribe(
                s,
                who,
                queryName,
                body.dest,
                from_start=body.reportFromStart,
                allowed=parse_allowed(settings.webhook_allow_nets),
                quota=settings.subscription_quota,
            )
            view = _sub_view(row, queryName, secret)
    except TrackingError as exc:
        return problem(exc)
    location = f"{PREFIX}/queries/{queryName}/subscriptions/{view['subscriptionID']}"
    return json_response(view, request, 201, {"Location": location})


@router.get(
    "/queries/{queryName}/subscriptions/{subscriptionID}",
    response_model=SubscriptionView,
    summary="A subscription",
)
def get_subscription(
    queryName: str, subscriptionID: str, request: Request, who: CallerDep
) -> Response:
    try:
        with database_of(request).session() as s:
            row = subs.get_subscription(s, who, queryName, subscriptionID)
            return json_response(_sub_view(row, queryName), request)
    except TrackingError as exc:
        return problem(exc)


@router.delete(
    "/queries/{queryName}/subscriptions/{subscriptionID}", status_code=204, summary="Unsubscribe"
)
def unsubscribe(queryName: str, subscriptionID: str, request: Request, who: CallerDep) -> Response:
    try:
        with database_of(request).write_session() as s:
            subs.unsubscribe(s, who, queryName, subscriptionID)
    except TrackingError as exc:
        return problem(exc)
    return Response(status_code=204)


# -- WebSocket ---------------------------------------------------------------------------------


def _ws_principal(db: Database, token: str | None) -> Principal | None:
    if not token:
        return None
    with db.session() as s:
        return principal_for(s, token)


def _ws_subscription(db: Database, who: Principal, name: str, sub_id: str | None) -> str:
    """The durable subscription to follow: the one named, or a new one starting now."""
    with db.write_session() as s:
        if sub_id:
            return subs.get_subscription(s, who, name, sub_id).id
        row, _ = subs.subscribe(s, who, name, None, quota=10_000)
        return row.id


def _ws_batch(db: Database, sub_id: str) -> tuple[int, int, bytes] | None:
    with db.session() as s:
        row = s.get(EpcisSubscription, sub_id)
        if row is None:
            return None
        batch = subs.next_batch(s, row)
        if not batch:
            return None
        query = s.get(EpcisNamedQuery, row.query_id)
        document = subs.query_document([b for _, b in batch], query.name if query else "", row.id)
        return row.position, batch[-1][0], orjson.dumps(document)


def _ws_advance(db: Database, sub_id: str, expected: int, position: int) -> None:
    with db.write_session() as s:
        subs.advance(s, sub_id, expected, position)


@router.websocket("/queries/{queryName}/subscriptions")
async def stream(websocket: WebSocket, queryName: str) -> None:
    """Matching events as EPCISQueryDocuments, in capture order, each once.

    Authenticate with ``Authorization: Bearer`` or ``?access_token=``. ``?subscriptionID=`` resumes
    a subscription where it stopped (its position is kept in the database); without it a new
    subscription starts now, and its id comes in the first message's ``subscriptionID``.
    """
    db: Database = websocket.app.state.db
    header = websocket.headers.get("authorization", "")
    token = (
        header.removeprefix("Bearer ").strip()
        if header
        else websocket.query_params.get("access_token")
    )
    app = websocket.app
    try:
        who = await in_turn(app, _ws_principal, db, token)
        if who is None:
            await websocket.close(code=4401, reason="unauthorized")
            return
        sub_id = await in_turn(
            app, _ws_subscription, db, who, queryName, websocket.query_params.get("subscriptionID")
        )
    except TrackingError as exc:
        await websocket.close(code=4404, reason=exc.reason[:120])
        return
    except Unavailable:
        await websocket.close(code=1013, reason="the service is busy; retry after a moment")
        return
    await websocket.accept()
    await websocket.send_text(orjson.dumps({"subscriptionID": sub_id}).decode())
    # Reads take a request turn, and one watcher per process looks for newly captured events
    # (api/feeds.py), so open subscriptions neither starve requests nor poll on their own.
    captured = feed(app, "epcis", _last_event_id, WS_POLL_S)
    listener = asyncio.get_running_loop().create_task(_until_closed(websocket))
    try:
        while not listener.done():
            seen = captured.head if captured.head is not None else -1
            try:
                batch = await in_turn(app, _ws_batch, db, sub_id)
            except Unavailable:
                batch = None
            if batch is not None:
                expected, position, payload = batch
                await websocket.send_text(payload.decode())
                with contextlib.suppress(Unavailable):
                    await in_turn(app, _ws_advance, db, sub_id, expected, position)
                continue
            await captured.wait_past(app, seen, WS_IDLE_S)
    except WebSocketDisconnect:
        return
    finally:
        listener.cancel()


async def _until_closed(websocket: WebSocket) -> None:
    """Read (and ignore) what the client sends, until it goes away."""
    with contextlib.suppress(WebSocketDisconnect):
        while True:
            await websocket.receive_text()


def _last_event_id(db: Database) -> int:
    with db.session() as s:
        return tracking_query.last_id(s)
