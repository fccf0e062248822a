"""Shipment status from stored events, with the learned dwell times cached in the database.

The cache lives in ``tracking_cache`` so every server worker shares one computation per
``DWELL_CACHE_S`` instead of each keeping its own process-global copy.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.exc import OperationalError
from sqlalchemy.orm import Session

from corridor.disruptions import NoticeStatus, closures_of
from corridor.network import Network
from corridor.routing import Itinerary
from corridor.store import disruptions as notices
from corridor.store.accounts import now
from corridor.store.models import EpcisEvent, Shipment
from corridor.store.tracking_tables import TrackingCache
from corridor.tracking import eta as eta_model
from corridor.tracking.status import Seen, TrackingStatus, nodes_of, status

DWELL_KEY = "dwell"
DWELL_CACHE_S = 300.0


def observations(session: Session) -> list[eta_model.Observation]:
    stmt = select(
        EpcisEvent.shipment_id, EpcisEvent.node_id, EpcisEvent.biz_step, EpcisEvent.event_time
    ).where(
        EpcisEvent.biz_step.in_(("arriving", "departing")),
        EpcisEvent.node_id.is_not(None),
        EpcisEvent.shipment_id.is_not(None),
        EpcisEvent.error_declared.is_(False),
    )
    return [
        eta_model.Observation(s, n, b, t)
        for s, n, b, t in session.execute(stmt)
        if s is not None and n is not None and b is not None
    ]


def upsert(session: Session, model: Any, values: dict[str, Any]) -> None:
    """Insert or replace one row by its primary key, safe when two workers do it at once."""
    module: Any = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    key = [c.name for c in model.__table__.primary_key.columns]
    stmt = module.insert(model).values(**values)
    stmt = stmt.on_conflict_do_update(
        index_elements=key, set_={k: v for k, v in values.items() if k not in key}
    )
    session.execute(stmt)


def learned_dwell(
    session: Session, nodes: set[str], max_age_s: float = DWELL_CACHE_S
) -> dict[str, float]:
    """Observed median dwell per node, recomputed at most every ``max_age_s`` for all workers."""
    cached = session.get(TrackingCache, DWELL_KEY)
    moment = now()
    if cached is not None and moment - cached.computed_at < timedelta(seconds=max_age_s):
        dwell = {k: float(v) for k, v in cached.data.items()}
    else:
        dwell = eta_model.learned_dwell(observations(session))
        # The cache is an optimisation: a read request on SQLite may not get the write lock
        # (another writer committed since it began); then the next request refreshes it.
        try:
            with session.begin_nested():
                upsert(
                    session, TrackingCache, {"key": DWELL_KEY, "computed_at": moment, "data": dwell}
                )
        except OperationalError:
            pass
    return {n: h for n, h in dwell.items() if n in nodes}


def seen(session: Session, shipment_id: str) -> list[Seen]:
    """The shipment's events that count (not declared erroneous), in time order."""
    rows = session.execute(
        select(EpcisEvent.node_id, EpcisEvent.biz_step, EpcisEvent.place, EpcisEvent.event_time)
        .where(EpcisEvent.shipment_id == shipment_id, EpcisEvent.error_declared.is_(False))
        .order_by(EpcisEvent.event_time, EpcisEvent.id)
    )
    return [Seen(n, b, p, t) for n, b, p, t in rows]


def shipment_status(session: Session, network: Network, shipment: Shipment) -> TrackingStatus:
    plan = Itinerary.model_validate(shipment.itinerary)
    events = seen(session, shipment.id)
    dwell = learned_dwell(session, nodes_of(plan)) if events else {}
    closures = (
        closures_of(notices.listing(session, status=NoticeStatus.ACTIVE), network) if events else ()
    )
    return status(network, shipment.id, plan, events, dwell, shipment.teu, closures)
