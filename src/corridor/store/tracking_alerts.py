"""ETA alerts and the webhooks that carry them: evaluation, debounce, delivery, registration.

The rule (when to alert) is ``corridor.tracking.alerts``; delivery (SSRF guard, HMAC signature,
back-off) is ``corridor.webhooks``. The debounce (a shipment re-evaluated at most once per
``debounce_s``) is a conditional upsert in ``tracking_marks``, shared by all workers.
"""

from __future__ import annotations

import secrets
import uuid
from collections.abc import Iterable
from datetime import timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import func, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from corridor.network import Network
from corridor.routing import Itinerary
from corridor.store.accounts import Principal, now
from corridor.store.db import Database
from corridor.store.models import EpcisEvent, OrgKind, Shipment, TrackingAlert, Webhook
from corridor.store.tracking_status import shipment_status
from corridor.store.tracking_tables import TrackingMark
from corridor.tracking.alerts import SLIP_THRESHOLD_H, behind_plan, should_alert
from corridor.tracking.errors import TrackingError
from corridor.webhooks import TargetRefused, backoff_s, check_target, http_client, post
from corridor.webhooks.guard import Network as IpNetwork

MAX_ATTEMPTS = 8


def claim_evaluation(session: Session, shipment_ids: Iterable[str], debounce_s: float) -> set[str]:
    """The shipments due for evaluation, marked as evaluated now (one winner across workers)."""
    moment = now()
    due = set()
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    for sid in sorted(set(shipment_ids)):
        key = f"alert:{sid}"
        stmt = (
            module.insert(TrackingMark)
            .values(key=key, at=moment)
            .on_conflict_do_update(
                index_elements=["key"],
                set_={"at": moment},
                where=TrackingMark.at <= moment - timedelta(seconds=debounce_s),
            )
            .returning(TrackingMark.key)
        )
        if session.scalar(stmt) is not None:
            due.add(sid)
    return due


def _last_located(session: Session, shipment_id: str) -> tuple[str | None, Any] | None:
    row = session.execute(
        select(EpcisEvent.node_id, EpcisEvent.event_time)
        .where(
            EpcisEvent.shipment_id == shipment_id,
            EpcisEvent.node_id.is_not(None),
            EpcisEvent.error_declared.is_(False),
        )
        .order_by(EpcisEvent.event_time.desc())
        .limit(1)
    ).first()
    return None if row is None else (row[0], row[1])


def evaluate_alerts(
    session: Session,
    network: Network,
    shipment_ids: set[str],
    threshold_h: float = SLIP_THRESHOLD_H,
) -> list[TrackingAlert]:
    """Raise an alert for each shipment whose ETA slipped beyond the threshold (rule: tracking.alerts)."""
    raised = []
    for sid in sorted(shipment_ids):
        shipment = session.get(Shipment, sid)
        if shipment is None or shipment.status != "planned":
            continue
        last = _last_located(session, sid)
        plan = Itinerary.model_validate(shipment.itinerary)
        if last is None or not behind_plan(plan, last[0], last[1], threshold_h / 4):
            continue
        state = shipment_status(session, network, shipment)
        previous = session.scalar(
            select(TrackingAlert.slip_h)
            .where(TrackingAlert.shipment_id == sid)
            .order_by(TrackingAlert.created_at.desc())
            .limit(1)
        )
        if not should_alert(state.slip_h, previous, threshold_h):
            continue
        has_hook = session.scalar(
            select(Webhook.id).where(Webhook.organisation_id == shipment.organisation_id).limit(1)
        )
        alert = TrackingAlert(
            id=uuid.uuid4().hex[:16],
            shipment_id=sid,
            organisation_id=shipment.organisation_id,
            created_at=now(),
            eta=state.eta,
            planned=state.planned_arrival,
            slip_h=state.slip_h,
            status="pending" if has_hook else "no_webhook",
            attempts=0,
            next_attempt_at=now(),
            last_error=None,
        )
        session.add(alert)
        raised.append(alert)
    session.flush()
    return raised


def alert_payload(alert: TrackingAlert, reference: str) -> dict[str, Any]:
    return {
        "type": "eta_slip",
        "alert_id": alert.id,
        "shipment_id": alert.shipment_id,
        "reference": reference,
        "planned_arrival": alert.planned.isoformat(),
        "eta": alert.eta.isoformat(),
        "slip_h": alert.slip_h,
    }


def deliver_due(
    db: Database,
    first_backoff_s: float,
    client: httpx.Client | None = None,
    allowed: Iterable[IpNetwork] = (),
) -> int:
    """POST every due alert to its organisation's webhooks; retry with exponential back-off.

    Each alert is claimed first (pending -> sending in one conditional UPDATE), so two delivery
    rounds running at once never send the same alert twice.
    """
    delivered = 0
    own_client = client is None
    http = client or http_client()
    nets = list(allowed)
    try:
        with db.session() as s:
            due = list(
                s.scalars(
                    select(TrackingAlert.id).where(
                        TrackingAlert.status == "pending", TrackingAlert.next_attempt_at <= now()
                    )
                )
            )
        for alert_id in due:
            with db.write_session() as s:
                claimed = s.execute(
                    update(TrackingAlert)
                    .where(TrackingAlert.id == alert_id, TrackingAlert.status == "pending")
                    .values(status="sending")
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
            with db.session() as s:  # read; no transaction stays open while posting
                alert = s.get(TrackingAlert, alert_id)
                assert alert is not None
                shipment = s.get(Shipment, alert.shipment_id)
                hooks = [
                    (h.id, h.url, h.secret or "")
                    for h in s.scalars(
                        select(Webhook).where(Webhook.organisation_id == alert.organisation_id)
                    )
                ]
                body = orjson.dumps(alert_payload(alert, shipment.reference if shipment else ""))
            errors = []
            for hook_id, url, secret in hooks:
                outcome = post(http, url, body, secret, nets)
                if not outcome.ok:
                    errors.append(f"webhook {hook_id}: {outcome.error}")
            with db.write_session() as s:
                alert = s.get(TrackingAlert, alert_id)
                assert alert is not None
                alert.attempts += 1
                if not errors:
                    alert.status = "delivered"
                    delivered += 1
                elif alert.attempts >= MAX_ATTEMPTS:
                    alert.status, alert.last_error = "failed", "; ".join(errors)[:300]
                else:
                    alert.status, alert.last_error = "pending", "; ".join(errors)[:300]
                    alert.next_attempt_at = now() + timedelta(
                        seconds=backoff_s(first_backoff_s, alert.attempts)
                    )
    finally:
        if own_client:
            http.close()
    return delivered


def add_webhook(
    session: Session, who: Principal, url: str, allowed: Iterable[IpNetwork] = (), quota: int = 20
) -> tuple[Webhook, str]:
    """Register ``url`` for the caller's organisation; the hook and its signing secret (shown once)."""
    try:
        check_target(url, allowed, registering=True)
    except TargetRefused as exc:
        raise TrackingError("invalid", "url", exc.reason) from None
    count = session.scalar(
        select(func.count())
        .select_from(Webhook)
        .where(Webhook.organisation_id == who.organisation_id)
    )
    if (count or 0) >= quota:
        raise TrackingError("quota", "url", f"at most {quota} webhooks per organisation")
    secret = secrets.token_hex(24)
    hook = Webhook(
        id=uuid.uuid4().hex[:16],
        organisation_id=who.organisation_id,
        url=url,
        created_at=now(),
        secret=secret,
    )
    session.add(hook)
    session.flush()
    return hook, secret


def webhooks(session: Session, who: Principal) -> list[Webhook]:
    """The caller's organisation's webhooks; the administrator sees every organisation's."""
    stmt = select(Webhook).order_by(Webhook.organisation_id, Webhook.url)
    if who.kind is not OrgKind.ADMIN:
        stmt = stmt.where(Webhook.organisation_id == who.organisation_id)
    return list(session.scalars(stmt))


def alerts_of(session: Session, organisation_id: str | None) -> list[TrackingAlert]:
    """Alerts of one organisation's shipments, or of all (None, for the administrator)."""
    stmt = select(TrackingAlert).order_by(TrackingAlert.created_at.desc())
    if organisation_id is not None:
        stmt = stmt.where(TrackingAlert.organisation_id == organisation_id)
    return list(session.scalars(stmt))


def shipment_alerts(session: Session, shipment_id: str) -> list[TrackingAlert]:
    return list(
        session.scalars(
            select(TrackingAlert)
            .where(TrackingAlert.shipment_id == shipment_id)
            .order_by(TrackingAlert.created_at)
        )
    )
