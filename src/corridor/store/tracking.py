"""EPCIS capture and query in the database, shipment status and ETA, alerts and their webhooks."""

from __future__ import annotations

import base64
import uuid
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import Select, insert, select, update
from sqlalchemy.orm import Session

from corridor.network import Network
from corridor.routing import Itinerary
from corridor.store.accounts import Principal, now
from corridor.store.db import Database
from corridor.store.models import (
    EpcisEpc,
    EpcisEvent,
    Organisation,
    OrgKind,
    Shipment,
    TrackingAlert,
    Webhook,
)
from corridor.tracking import eta as eta_model
from corridor.tracking.events import EVENT_TYPES, NODE_PREFIX, to_fact
from corridor.tracking.schema import validate

#: An alert is raised when the ETA is this many hours later than the plan.
SLIP_THRESHOLD_H = 24.0
MAX_ATTEMPTS = 8
PAGE_MAX = 1000


class CaptureError(ValueError):
    """A document that is not captured; nothing of it is stored."""

    def __init__(self, status: int, title: str, problems: list[dict[str, str]]) -> None:
        self.status, self.title, self.problems = status, title, problems
        super().__init__(title)


@dataclass
class CaptureResult:
    captured: int = 0
    duplicates: int = 0
    corrected: int = 0
    shipments: set[str] = field(default_factory=set)


def capture(session: Session, who: Principal, network: Network, document: Any) -> CaptureResult:
    """Store every event of an EPCIS document, or none: schema, references and rights first."""
    schema_problems = validate(document)
    if schema_problems:
        raise CaptureError(
            400,
            "The document does not conform to the EPCIS 2.0 JSON schema",
            [{"path": p.path, "message": p.message} for p in schema_problems],
        )
    if document.get("type") != "EPCISDocument":
        raise CaptureError(
            400,
            "Capture takes an EPCISDocument",
            [{"path": "$.type", "message": "expected EPCISDocument"}],
        )
    events = document.get("epcisBody", {}).get("eventList", [])
    facts = [to_fact(e) for e in events]
    problems: list[dict[str, str]] = []
    shipment_ids = {s for f in facts for s in f.shipments}
    owners = (
        dict(
            session.execute(
                select(Shipment.id, Shipment.organisation_id).where(Shipment.id.in_(shipment_ids))
            ).all()
        )
        if shipment_ids
        else {}
    )
    for i, fact in enumerate(facts):
        path = f"$.epcisBody.eventList[{i}]"
        if fact.event_type not in EVENT_TYPES:
            problems.append(
                {"path": f"{path}.type", "message": f"unknown event type {fact.event_type}"}
            )
        for sid in fact.shipments:
            if sid not in owners or (
                who.kind is OrgKind.FORWARDER and owners[sid] != who.organisation_id
            ):
                problems.append(
                    {"path": f"{path}.bizTransactionList", "message": f"unknown shipment {sid!r}"}
                )
        if fact.place and fact.place.startswith(NODE_PREFIX) and fact.node not in network.nodes:
            problems.append(
                {"path": f"{path}.bizLocation", "message": f"unknown place {fact.place!r}"}
            )
        if who.kind is OrgKind.FORWARDER and not fact.shipments:
            problems.append(
                {
                    "path": f"{path}.bizTransactionList",
                    "message": "a forwarder's events name one of its shipments (urn:corridor:shipment:<id>)",
                }
            )
    if problems:
        raise CaptureError(422, "Events refer to unknown shipments or places", problems[:50])
    result = CaptureResult()
    ids = [f.event_id for f in facts]
    existing = set()
    for chunk in range(0, len(ids), 500):
        existing |= set(
            session.scalars(
                select(EpcisEvent.event_id).where(EpcisEvent.event_id.in_(ids[chunk : chunk + 500]))
            )
        )
    rows, epcs, seen = [], [], set()
    for fact in facts:
        if fact.event_id in existing or fact.event_id in seen:
            if fact.error_declaration and fact.event_id in existing:
                session.execute(
                    update(EpcisEvent)
                    .where(EpcisEvent.event_id == fact.event_id)
                    .values(error_declared=True, body=fact.body)
                )
                result.corrected += 1
            else:
                result.duplicates += 1
            continue
        seen.add(fact.event_id)
        shipment = fact.shipments[0] if fact.shipments else None
        rows.append(
            {
                "event_id": fact.event_id,
                "event_type": fact.event_type,
                "event_time": fact.event_time,
                "biz_step": fact.biz_step,
                "disposition": fact.disposition,
                "place": fact.place,
                "node_id": fact.node,
                "shipment_id": shipment,
                "error_declared": fact.error_declaration,
                "captured_by": who.organisation_id,
                "body": fact.body,
            }
        )
        epcs += [{"event_id": fact.event_id, "epc": epc} for epc in fact.epcs]
        if shipment:
            result.shipments.add(shipment)
    if rows:
        session.execute(insert(EpcisEvent), rows)
    if epcs:
        session.execute(insert(EpcisEpc), epcs)
    result.captured = len(rows)
    return result


def _visible(who: Principal) -> Select[EpcisEvent]:
    stmt = select(EpcisEvent)
    if who.kind is OrgKind.FORWARDER:
        own = select(Shipment.id).where(Shipment.organisation_id == who.organisation_id)
        stmt = stmt.where(EpcisEvent.shipment_id.in_(own))
    return stmt


def query(
    session: Session, who: Principal, params: dict[str, str], per_page: int, page_token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """Events matching the EPCIS simple-event-query parameters, in capture order, one page."""
    if "EQ_shipment" in params and who.kind is OrgKind.FORWARDER:
        # One shipment: check it is the caller's once, instead of joining all its shipments.
        owner = session.scalar(
            select(Shipment.organisation_id).where(Shipment.id == params["EQ_shipment"])
        )
        if owner != who.organisation_id:
            return [], None
        stmt = select(EpcisEvent)
    else:
        stmt = _visible(who)
    if "eventType" in params:
        stmt = stmt.where(EpcisEvent.event_type.in_(params["eventType"].split(",")))
    if "GE_eventTime" in params:
        stmt = stmt.where(EpcisEvent.event_time >= _time(params["GE_eventTime"], "GE_eventTime"))
    if "LT_eventTime" in params:
        stmt = stmt.where(EpcisEvent.event_time < _time(params["LT_eventTime"], "LT_eventTime"))
    if "EQ_bizStep" in params:
        stmt = stmt.where(
            EpcisEvent.biz_step.in_([_short(v) for v in params["EQ_bizStep"].split(",")])
        )
    if "EQ_disposition" in params:
        stmt = stmt.where(
            EpcisEvent.disposition.in_([_short(v) for v in params["EQ_disposition"].split(",")])
        )
    if "EQ_bizLocation" in params:
        stmt = stmt.where(EpcisEvent.place.in_(params["EQ_bizLocation"].split(",")))
    if "EQ_shipment" in params:
        stmt = stmt.where(EpcisEvent.shipment_id == params["EQ_shipment"])
    if "MATCH_epc" in params:
        patterns = params["MATCH_epc"].split(",")
        clauses = [
            EpcisEpc.epc.like(p[:-1] + "%") if p.endswith("*") else EpcisEpc.epc == p
            for p in patterns
        ]
        from sqlalchemy import or_

        stmt = stmt.where(EpcisEvent.event_id.in_(select(EpcisEpc.event_id).where(or_(*clauses))))
    if page_token:
        stmt = stmt.where(EpcisEvent.id > _decode(page_token))
    rows = list(session.scalars(stmt.order_by(EpcisEvent.id).limit(per_page + 1)))
    token = _encode(rows[per_page - 1].id) if len(rows) > per_page else None
    return [r.body for r in rows[:per_page]], token


class QueryError(ValueError):
    def __init__(self, field: str, reason: str) -> None:
        self.field, self.reason = field, reason
        super().__init__(f"{field}: {reason}")


def _short(value: str) -> str:
    from corridor.tracking.events import cbv_short

    return cbv_short(value) or value


def _time(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    except ValueError:
        raise QueryError(name, f"{value!r} is not an ISO 8601 date-time") from None
    from datetime import UTC

    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def _encode(last_id: int) -> str:
    return base64.urlsafe_b64encode(f"after:{last_id}".encode()).decode()


def _decode(token: str) -> int:
    try:
        text = base64.urlsafe_b64decode(token.encode()).decode()
        return int(text.removeprefix("after:"))
    except (ValueError, UnicodeDecodeError):
        raise QueryError("nextPageToken", "not a page token from this server") from None


_DWELL_CACHE: dict[str, tuple[float, dict[str, float]]] = {}
DWELL_CACHE_S = 300.0


def learned_dwell(session: Session, nodes: set[str]) -> dict[str, float]:
    """Observed median dwell per node, recomputed at most every five minutes per database."""
    import time as _time

    bind = session.get_bind()
    key = str(bind.engine.url)
    cached = _DWELL_CACHE.get(key)
    if cached is not None and _time.monotonic() - cached[0] < DWELL_CACHE_S:
        return {n: h for n, h in cached[1].items() if n in nodes}
    dwell = eta_model.learned_dwell(observations(session))
    _DWELL_CACHE[key] = (_time.monotonic(), dwell)
    return {n: h for n, h in dwell.items() if n in nodes}


def observations(session: Session, nodes: set[str] | None = None) -> list[eta_model.Observation]:
    stmt = select(
        EpcisEvent.shipment_id, EpcisEvent.node_id, EpcisEvent.biz_step, EpcisEvent.event_time
    ).where(
        EpcisEvent.biz_step.in_(("arriving", "departing")),
        EpcisEvent.node_id.is_not(None),
        EpcisEvent.shipment_id.is_not(None),
        EpcisEvent.error_declared.is_(False),
    )
    if nodes is not None:
        stmt = stmt.where(EpcisEvent.node_id.in_(nodes))
    return [
        eta_model.Observation(s, n, b, t)
        for s, n, b, t in session.execute(stmt)
        if s is not None and n is not None and b is not None
    ]


def status(session: Session, network: Network, shipment: Shipment) -> dict[str, Any]:
    """Planned against actual per leg, the current position, the ETA and its basis."""
    plan = Itinerary.model_validate(shipment.itinerary)
    events = list(
        session.scalars(
            select(EpcisEvent)
            .where(EpcisEvent.shipment_id == shipment.id, EpcisEvent.error_declared.is_(False))
            .order_by(EpcisEvent.event_time, EpcisEvent.id)
        )
    )
    first: dict[tuple[str, str], datetime] = {}
    for e in events:
        if e.node_id and e.biz_step:
            first.setdefault((e.node_id, e.biz_step), e.event_time)
    legs = []
    for leg in plan.legs:
        actual_dep = first.get((leg.from_node, "departing"))
        actual_arr = first.get((leg.to_node, "arriving"))
        legs.append(
            {
                "from": leg.from_node,
                "to": leg.to_node,
                "mode": leg.mode,
                "line": leg.line,
                "planned_departure": leg.departure,
                "actual_departure": actual_dep,
                "planned_arrival": leg.arrival,
                "actual_arrival": actual_arr,
                "delay_h": None
                if actual_arr is None
                else round((actual_arr - leg.arrival).total_seconds() / 3600, 1),
            }
        )
    located = [e for e in events if e.node_id]
    if not located:
        return {
            "shipment_id": shipment.id,
            "events": len(events),
            "position": None,
            "last_event": None,
            "planned_arrival": plan.arrival,
            "eta": plan.arrival,
            "slip_h": 0.0,
            "basis": "no event yet: the plan",
            "legs": legs,
        }
    last = located[-1]
    dwell = learned_dwell(session, {n for leg in plan.legs for n in (leg.from_node, leg.to_node)})
    estimate = eta_model.estimate(
        network,
        plan,
        last.node_id or plan.origin,
        last.biz_step,
        last.event_time,
        dwell,
        shipment.teu,
    )
    node = network.nodes[estimate.position]
    return {
        "shipment_id": shipment.id,
        "events": len(events),
        "position": {"node": node.id, "name": node.name, "lat": node.lat, "lon": node.lon},
        "last_event": {"time": last.event_time, "bizStep": last.biz_step, "place": last.place},
        "planned_arrival": plan.arrival,
        "eta": estimate.eta,
        "slip_h": round((estimate.eta - plan.arrival).total_seconds() / 3600, 1),
        "basis": estimate.basis,
        "legs": legs,
    }


def _behind_plan(session: Session, shipment: Shipment, margin_h: float) -> bool:
    """Is the latest event later than the plan at that place by more than ``margin_h``?

    A cheap test before the full ETA (which re-plans): a consignment on time where it was last
    seen cannot have slipped a day yet.
    """
    last = session.scalars(
        select(EpcisEvent)
        .where(
            EpcisEvent.shipment_id == shipment.id,
            EpcisEvent.node_id.is_not(None),
            EpcisEvent.error_declared.is_(False),
        )
        .order_by(EpcisEvent.event_time.desc())
        .limit(1)
    ).first()
    if last is None:
        return False
    plan = Itinerary.model_validate(shipment.itinerary)
    planned = [leg.departure for leg in plan.legs if leg.from_node == last.node_id]
    planned += [leg.arrival for leg in plan.legs if leg.to_node == last.node_id]
    if not planned:
        return True  # off the planned route: worth a full look
    return (last.event_time - max(planned)).total_seconds() / 3600 > margin_h


def evaluate_alerts(
    session: Session, network: Network, shipment_ids: set[str]
) -> list[TrackingAlert]:
    """Raise an alert for each shipment whose ETA slipped beyond the threshold (once per 24 h of slip)."""
    raised = []
    for sid in shipment_ids:
        shipment = session.get(Shipment, sid)
        if shipment is None or shipment.status != "planned":
            continue
        if not _behind_plan(session, shipment, SLIP_THRESHOLD_H / 4):
            continue
        state = status(session, network, shipment)
        slip = float(state["slip_h"])
        if slip <= SLIP_THRESHOLD_H:
            continue
        previous = session.scalars(
            select(TrackingAlert)
            .where(TrackingAlert.shipment_id == sid)
            .order_by(TrackingAlert.created_at.desc())
        ).first()
        if previous is not None and slip < previous.slip_h + SLIP_THRESHOLD_H:
            continue
        has_hook = session.scalar(
            select(Webhook.id).where(Webhook.organisation_id == shipment.organisation_id)
        )
        alert = TrackingAlert(
            id=uuid.uuid4().hex[:16],
            shipment_id=sid,
            organisation_id=shipment.organisation_id,
            created_at=now(),
            eta=state["eta"],
            planned=state["planned_arrival"],
            slip_h=slip,
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


def deliver_due(db: Database, backoff_s: float, client: httpx.Client | None = None) -> int:
    """POST every due alert to its organisation's webhooks; retry with exponential back-off.

    Each alert is claimed first (pending -> sending in one UPDATE), so two delivery rounds running
    at once (the one after a capture and the background one) never send the same alert twice.
    """
    delivered = 0
    own_client = client is None
    http = client or httpx.Client(timeout=5.0)
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
            with db.session() as s:
                claimed = s.execute(
                    update(TrackingAlert)
                    .where(TrackingAlert.id == alert_id, TrackingAlert.status == "pending")
                    .values(status="sending")
                )
                if claimed.rowcount != 1:  # type: ignore[attr-defined]
                    continue
            with db.session() as s:
                alert = s.get(TrackingAlert, alert_id)
                assert alert is not None
                shipment = s.get(Shipment, alert.shipment_id)
                hooks = list(
                    s.scalars(
                        select(Webhook).where(Webhook.organisation_id == alert.organisation_id)
                    )
                )
                payload = alert_payload(alert, shipment.reference if shipment else "")
                errors = []
                for hook in hooks:
                    try:
                        response = http.post(hook.url, json=payload)
                        if response.status_code >= 300:
                            errors.append(f"{hook.url}: HTTP {response.status_code}")
                    except httpx.HTTPError as exc:
                        errors.append(f"{hook.url}: {exc.__class__.__name__}")
                alert.attempts += 1
                if not errors:
                    alert.status = "delivered"
                    delivered += 1
                elif alert.attempts >= MAX_ATTEMPTS:
                    alert.status, alert.last_error = "failed", "; ".join(errors)[:300]
                else:
                    alert.status, alert.last_error = "pending", "; ".join(errors)[:300]
                    alert.next_attempt_at = now() + timedelta(
                        seconds=backoff_s * 2 ** (alert.attempts - 1)
                    )
    finally:
        if own_client:
            http.close()
    return delivered


def add_webhook(session: Session, who: Principal, url: str) -> Webhook:
    if not url.startswith(("http://", "https://")):
        raise QueryError("url", "a webhook is an http(s) URL")
    hook = Webhook(
        id=uuid.uuid4().hex[:16], organisation_id=who.organisation_id, url=url, created_at=now()
    )
    session.add(hook)
    session.flush()
    return hook


def org_of(session: Session, org_id: str) -> Organisation | None:
    return session.get(Organisation, org_id)
