"""Shipment tracking status, alerts and their webhooks; includes the EPCIS binding's routers.

No SQL and no process-global state here: the debounce of alert evaluation is a row per shipment
in the database (``store.tracking_alerts.claim_evaluation``), shared by every worker.
"""

from __future__ import annotations

import dataclasses
from datetime import datetime

from fastapi import APIRouter, Request, status
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from corridor.api import tracking_epcis, tracking_queries
from corridor.api.deps import NetworkDep, PrincipalDep, SessionDep
from corridor.api.tracking_http import problem, settings_of
from corridor.network import Network
from corridor.settings import Settings
from corridor.store import shipments as shipment_store
from corridor.store import tracking_alerts, tracking_jobs
from corridor.store.db import Database
from corridor.store.models import OrgKind, TrackingAlert
from corridor.store.tracking_status import shipment_status
from corridor.tracking.errors import TrackingError
from corridor.webhooks.guard import parse_allowed

router = APIRouter(tags=["tracking"])
router.include_router(tracking_epcis.router)
router.include_router(tracking_queries.router)


def after_capture(
    db: Database, network: Network, shipment_ids: set[str], settings: Settings
) -> None:
    """Alerts for the shipments a capture touched (debounced in the database), then deliveries."""
    tracking_jobs.after_capture(db, settings, shipment_ids, network)


class PositionOut(BaseModel):
    node: str
    name: str
    lat: float
    lon: float


class LastEventOut(BaseModel):
    time: datetime
    bizStep: str | None
    place: str | None


class LegOut(BaseModel):
    model_config = ConfigDict(populate_by_name=True)

    from_: str = Field(alias="from")
    to: str
    mode: str
    line: str
    planned_departure: datetime
    actual_departure: datetime | None
    planned_arrival: datetime
    actual_arrival: datetime | None
    delay_h: float | None


class AlertOut(BaseModel):
    id: str
    shipment_id: str
    created_at: datetime
    planned: datetime
    eta: datetime
    slip_h: float
    status: str
    attempts: int
    last_error: str | None


class TrackingOut(BaseModel):
    shipment_id: str
    events: int
    position: PositionOut | None
    last_event: LastEventOut | None
    planned_arrival: datetime
    eta: datetime
    slip_h: float
    basis: str
    legs: list[LegOut]
    alerts: list[AlertOut]


def _alert(a: TrackingAlert) -> AlertOut:
    return AlertOut(
        id=a.id,
        shipment_id=a.shipment_id,
        created_at=a.created_at,
        planned=a.planned,
        eta=a.eta,
        slip_h=a.slip_h,
        status=a.status,
        attempts=a.attempts,
        last_error=a.last_error,
    )


@router.get(
    "/shipments/{shipment_id}/tracking",
    response_model=TrackingOut,
    response_model_by_alias=True,
    summary="Timeline, position and ETA of a shipment",
)
def shipment_tracking(
    shipment_id: str, s: SessionDep, network: NetworkDep, who: PrincipalDep
) -> TrackingOut:
    shipment = shipment_store.get_visible(s, who, shipment_id)
    state = shipment_status(s, network, shipment)
    return TrackingOut(
        shipment_id=state.shipment_id,
        events=state.events,
        position=PositionOut(**dataclasses.asdict(state.position)) if state.position else None,
        last_event=LastEventOut(
            time=state.last_event.time,
            bizStep=state.last_event.biz_step,
            place=state.last_event.place,
        )
        if state.last_event
        else None,
        planned_arrival=state.planned_arrival,
        eta=state.eta,
        slip_h=state.slip_h,
        basis=state.basis,
        legs=[
            LegOut(
                **{"from": leg.from_node},
                to=leg.to_node,
                mode=leg.mode,
                line=leg.line,
                planned_departure=leg.planned_departure,
                actual_departure=leg.actual_departure,
                planned_arrival=leg.planned_arrival,
                actual_arrival=leg.actual_arrival,
                delay_h=leg.delay_h,
            )
            for leg in state.legs
        ],
        alerts=[_alert(a) for a in tracking_alerts.shipment_alerts(s, shipment_id)],
    )


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(min_length=8, max_length=500, examples=["https://example.org/corridor-alerts"])


class WebhookOut(BaseModel):
    id: str
    url: str
    organisation_id: str
    secret: str | None = Field(
        default=None,
        description="HMAC-SHA256 key of the Corridor-Signature header; shown only when created",
    )


@router.post(
    "/webhooks",
    status_code=status.HTTP_201_CREATED,
    response_model=WebhookOut,
    summary="Register a URL that receives alerts (signed with HMAC-SHA256)",
)
def add_webhook(
    body: WebhookCreate, request: Request, s: SessionDep, who: PrincipalDep
) -> WebhookOut | Response:
    settings = settings_of(request)
    try:
        hook, secret = tracking_alerts.add_webhook(
            s, who, body.url, parse_allowed(settings.webhook_allow_nets), settings.webhook_quota
        )
    except TrackingError as exc:
        return problem(exc)
    return WebhookOut(id=hook.id, url=hook.url, organisation_id=hook.organisation_id, secret=secret)


@router.get(
    "/webhooks",
    response_model=list[WebhookOut],
    summary="Your organisation's webhooks (the administrator: all)",
)
def list_webhooks(s: SessionDep, who: PrincipalDep) -> list[WebhookOut]:
    return [
        WebhookOut(id=h.id, url=h.url, organisation_id=h.organisation_id)
        for h in tracking_alerts.webhooks(s, who)
    ]


@router.get(
    "/alerts",
    response_model=list[AlertOut],
    summary="ETA alerts of your organisation's shipments (the administrator: all)",
)
def alerts(s: SessionDep, who: PrincipalDep) -> list[AlertOut]:
    everyone = who.kind is OrgKind.ADMIN
    return [
        _alert(a) for a in tracking_alerts.alerts_of(s, None if everyone else who.organisation_id)
    ]
