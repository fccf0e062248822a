"""EPCIS 2.0 capture and query (REST binding), shipment tracking status, webhooks and alerts."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from typing import Any

from fastapi import APIRouter, BackgroundTasks, Request, status
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.errors import ApiError
from corridor.network import Network
from corridor.store import shipments as shipment_store
from corridor.store import tracking
from corridor.store.db import Database
from corridor.store.models import OrgKind, TrackingAlert, Webhook
from corridor.tracking.generator import CONTEXT

router = APIRouter(tags=["tracking"])
QUERY_PARAMS = (
    "eventType",
    "GE_eventTime",
    "LT_eventTime",
    "EQ_bizStep",
    "EQ_bizLocation",
    "MATCH_epc",
    "EQ_disposition",
    "EQ_shipment",
)


def problem(status_code: int, title: str, errors: list[dict[str, str]]) -> JSONResponse:
    """RFC 9457 problem details, as the EPCIS REST binding uses them."""
    body = {
        "type": "epcisException:ValidationException" if status_code == 400 else "about:blank",
        "title": title,
        "status": status_code,
        "errors": errors,
        "error": {
            "code": "invalid_document",
            "field": errors[0]["path"] if errors else None,
            "reason": title,
        },
    }
    return JSONResponse(body, status_code=status_code, media_type="application/problem+json")


_last_evaluated: dict[str, float] = {}
#: A shipment's ETA is re-evaluated for alerts at most this often (a burst of events costs one plan).
ALERT_DEBOUNCE_S = 60.0


def after_capture(db: Database, network: Network, shipment_ids: set[str], backoff_s: float) -> None:
    import time

    moment = time.monotonic()
    due = {
        sid for sid in shipment_ids if moment - _last_evaluated.get(sid, -1e9) >= ALERT_DEBOUNCE_S
    }
    if not due:
        return
    _last_evaluated.update(dict.fromkeys(due, moment))
    with db.session() as s:
        tracking.evaluate_alerts(s, network, due)
    tracking.deliver_due(db, backoff_s)


@router.post(
    "/epcis/capture",
    status_code=status.HTTP_201_CREATED,
    summary="Capture an EPCISDocument",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/ld+json": {"schema": {"type": "object"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def capture(
    request: Request,
    s: SessionDep,
    network: NetworkDep,
    who: PrincipalDep,
    background: BackgroundTasks,
) -> Any:
    """All or nothing per document; events already captured (same eventID) are accepted and ignored."""
    try:
        document = json.loads(await request.body())
    except (ValueError, UnicodeDecodeError) as exc:
        return problem(400, "The body is not JSON", [{"path": "$", "message": str(exc)}])
    try:
        result = tracking.capture(s, who, network, document)
    except tracking.CaptureError as exc:
        s.rollback()
        return problem(exc.status, exc.title, exc.problems)
    if result.shipments:
        settings = request.app.state.settings
        background.add_task(
            after_capture,
            request.app.state.db,
            network,
            result.shipments,
            settings.webhook_backoff_s,
        )
    return {
        "captured": result.captured,
        "duplicates": result.duplicates,
        "corrected": result.corrected,
    }


@router.get("/epcis/events", summary="Query events (EPCIS simple event query parameters)")
def events(
    request: Request,
    s: SessionDep,
    who: PrincipalDep,
    perPage: int = 100,
    nextPageToken: str | None = None,
) -> JSONResponse:
    if not 1 <= perPage <= tracking.PAGE_MAX:
        raise ApiError(422, "invalid", "perPage", f"between 1 and {tracking.PAGE_MAX}")
    unknown = [
        k for k in request.query_params if k not in (*QUERY_PARAMS, "perPage", "nextPageToken")
    ]
    if unknown:
        raise ApiError(
            422,
            "invalid",
            unknown[0],
            f"unknown query parameter (known: {', '.join(QUERY_PARAMS)})",
        )
    params = {k: v for k, v in request.query_params.items() if k in QUERY_PARAMS}
    try:
        found, token = tracking.query(s, who, params, perPage, nextPageToken)
    except tracking.QueryError as exc:
        raise ApiError(422, "invalid", exc.field, exc.reason) from None
    body = {
        "@context": CONTEXT,
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).isoformat(),
        "epcisBody": {
            "queryResults": {"queryName": "SimpleEventQuery", "resultsBody": {"eventList": found}}
        },
        "nextPageToken": token,
    }
    headers = (
        {"Link": f'<{request.url.include_query_params(nextPageToken=token)}>; rel="next"'}
        if token
        else None
    )
    return JSONResponse(body, headers=headers)


@router.get("/shipments/{shipment_id}/tracking", summary="Timeline, position and ETA of a shipment")
def shipment_status(
    shipment_id: str, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> dict[str, Any]:
    shipment = shipment_store.get_visible(s, who, shipment_id)
    state = tracking.status(s, network, shipment)
    alerts = s.scalars(
        select(TrackingAlert)
        .where(TrackingAlert.shipment_id == shipment_id)
        .order_by(TrackingAlert.created_at)
    ).all()
    state["alerts"] = [
        {
            "id": a.id,
            "created_at": a.created_at,
            "eta": a.eta,
            "slip_h": a.slip_h,
            "status": a.status,
            "attempts": a.attempts,
        }
        for a in alerts
    ]
    return state


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=500, examples=["https://example.org/corridor-alerts"])


@router.post(
    "/webhooks", status_code=status.HTTP_201_CREATED, summary="Register a URL that receives alerts"
)
def add_webhook(body: WebhookCreate, s: SessionDep, who: PrincipalDep) -> dict[str, Any]:
    try:
        hook = tracking.add_webhook(s, who, body.url)
    except tracking.QueryError as exc:
        raise ApiError(422, "invalid", exc.field, exc.reason) from None
    return {"id": hook.id, "url": hook.url}


@router.get("/webhooks", summary="Your organisation's webhooks (the administrator: all)")
def list_webhooks(s: SessionDep, who: PrincipalDep) -> list[dict[str, Any]]:
    stmt = select(Webhook).order_by(Webhook.organisation_id, Webhook.url)
    if who.kind is not OrgKind.ADMIN:
        stmt = stmt.where(Webhook.organisation_id == who.organisation_id)
    return [
        {"id": h.id, "url": h.url, "organisation_id": h.organisation_id} for h in s.scalars(stmt)
    ]


@router.get(
    "/alerts", summary="ETA alerts of your organisation's shipments (the administrator: all)"
)
def alerts(s: SessionDep, who: PrincipalDep) -> list[dict[str, Any]]:
    stmt = select(TrackingAlert).order_by(TrackingAlert.created_at.desc())
    if who.kind is not OrgKind.ADMIN:
        stmt = stmt.where(TrackingAlert.organisation_id == who.organisation_id)
    rows = s.scalars(stmt).all()
    return [
        {
            "id": a.id,
            "shipment_id": a.shipment_id,
            "created_at": a.created_at,
            "planned": a.planned,
            "eta": a.eta,
            "slip_h": a.slip_h,
            "status": a.status,
            "attempts": a.attempts,
            "last_error": a.last_error,
        }
        for a in rows
    ]
