"""Reading EPCIS events: visibility per role, the simple event query, and the resource lists.

Visibility follows shipment visibility (``store.shipments``): the administrator sees every event;
a forwarder the events of its shipments; a customs authority those of shipments whose route passes
its country; every organisation also sees the events it captured itself. Nothing else, whatever
the query names.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, func, or_, select, true
from sqlalchemy.orm import Session

from corridor.store.accounts import Principal
from corridor.store.models import EpcisEpc, EpcisEvent, OrgKind, Shipment
from corridor.tracking.errors import TrackingError
from corridor.tracking.query import PAGE_MAX, QuerySpec, decode_token, encode_token

#: Page tokens are tamper-evident (a forged one is a 400, not a 500); not a secret credential.
TOKEN_KEY = b"corridor-epcis-page-token"


def visible(who: Principal) -> ColumnElement[bool]:
    """The condition on EpcisEvent rows ``who`` may see."""
    if who.kind is OrgKind.ADMIN:
        return true()
    own = EpcisEvent.captured_by == who.organisation_id
    if who.kind is OrgKind.FORWARDER:
        mine = select(Shipment.id).where(Shipment.organisation_id == who.organisation_id)
        return or_(own, EpcisEvent.shipment_id.in_(mine))
    if who.kind is OrgKind.CUSTOMS and who.country:
        # countries is ";"-joined two-letter codes, so a two-letter substring is an exact match.
        passing = select(Shipment.id).where(Shipment.countries.contains(who.country))
        return or_(own, EpcisEvent.shipment_id.in_(passing))
    return own


def _column(name: str) -> Any:
    return getattr(EpcisEvent, name)


def _filtered(spec: QuerySpec, who: Principal) -> Select[EpcisEvent]:
    stmt = select(EpcisEvent).where(visible(who))
    for column, items in spec.equals.items():
        stmt = stmt.where(_column(column).in_(items))
    for column, op, moment in spec.times:
        col = _column(column)
        stmt = stmt.where(col >= moment if op == ">=" else col < moment)
    for match in spec.matches:
        clauses: list[ColumnElement[bool]] = []
        if match.exact:
            clauses.append(EpcisEpc.epc.in_(match.exact))
        clauses += [EpcisEpc.epc.startswith(p, autoescape=True) for p in match.prefixes]
        ids = select(EpcisEpc.event_id).where(EpcisEpc.role.in_(match.roles), or_(*clauses))
        stmt = stmt.where(EpcisEvent.event_id.in_(ids))
    for column in spec.exists:
        stmt = stmt.where(_column(column).is_not(None))
    if spec.error_declared is not None:
        stmt = stmt.where(EpcisEvent.error_declared.is_(spec.error_declared))
    return stmt


def query(
    session: Session, who: Principal, spec: QuerySpec, per_page: int, token: str | None
) -> tuple[list[dict[str, Any]], str | None]:
    """One page of the events matching ``spec`` that ``who`` may see, and the next page's token."""
    if not 1 <= per_page <= PAGE_MAX:
        raise TrackingError("invalid", "perPage", f"between 1 and {PAGE_MAX}")
    stmt = _filtered(spec, who)
    limit = spec.event_count_limit or spec.max_event_count
    if spec.is_capture_ordered():
        after = 0
        if token:
            kind, after = decode_token(token, TOKEN_KEY)
            if kind != "i":
                raise TrackingError("invalid", "nextPageToken", "not a page token of this query")
        stmt = stmt.where(EpcisEvent.id > after).order_by(EpcisEvent.id)
        offset = 0
    else:
        offset = 0
        if token:
            kind, offset = decode_token(token, TOKEN_KEY)
            if kind != "o":
                raise TrackingError("invalid", "nextPageToken", "not a page token of this query")
        col = _column(spec.order_by)
        order = (col.desc(), EpcisEvent.id.desc()) if spec.descending else (col, EpcisEvent.id)
        stmt = stmt.order_by(*order).offset(offset)
    if spec.max_event_count is not None:
        total = session.scalar(select(func.count()).select_from(_filtered(spec, who).subquery()))
        if (total or 0) > spec.max_event_count:
            raise TrackingError(
                "too_large", "maxEventCount", f"{total} events match, more than maxEventCount"
            )
    take = per_page
    if limit is not None:
        consumed = offset if not spec.is_capture_ordered() else 0
        take = max(0, min(per_page, limit - consumed))
        if take == 0:
            return [], None
    rows = list(session.scalars(stmt.limit(take + 1)))
    more = len(rows) > take and (limit is None or (offset + take) < limit)
    page = rows[:take]
    next_token = None
    if more and page:
        next_token = (
            encode_token(("i", page[-1].id), TOKEN_KEY)
            if spec.is_capture_ordered()
            else encode_token(("o", offset + take), TOKEN_KEY)
        )
    return [r.body for r in page], next_token


def event(session: Session, who: Principal, event_id: str) -> dict[str, Any]:
    """One visible event by eventID, or TrackingError not_found."""
    body = session.scalar(
        select(EpcisEvent.body).where(EpcisEvent.event_id == event_id[:200], visible(who))
    )
    if body is None:
        raise TrackingError("not_found", "eventID", "no such event")
    found: dict[str, Any] = body
    return found


DISTINCT = {
    "eventTypes": EpcisEvent.event_type,
    "bizSteps": EpcisEvent.biz_step,
    "bizLocations": EpcisEvent.place,
    "readPoints": EpcisEvent.read_point,
    "dispositions": EpcisEvent.disposition,
}


def distinct(session: Session, who: Principal, resource: str, limit: int = PAGE_MAX) -> list[str]:
    """The values of one resource (``bizSteps``, ...) among the events ``who`` may see."""
    column = DISTINCT[resource]
    stmt = (
        select(column)
        .where(visible(who), column.is_not(None))
        .group_by(column)
        .order_by(column)
        .limit(limit)
    )
    return [v for v in session.scalars(stmt) if v]


def epcs(session: Session, who: Principal, limit: int = PAGE_MAX) -> list[str]:
    """EPCs named by events ``who`` may see."""
    stmt = (
        select(EpcisEpc.epc)
        .join(EpcisEvent, EpcisEvent.event_id == EpcisEpc.event_id)
        .where(visible(who), EpcisEpc.role.in_(("epc", "parentID", "inputEPC", "outputEPC")))
        .group_by(EpcisEpc.epc)
        .order_by(EpcisEpc.epc)
        .limit(limit)
    )
    return list(session.scalars(stmt))


def after(
    session: Session, who: Principal, spec: QuerySpec, position: int, limit: int
) -> list[tuple[int, dict[str, Any]]]:
    """Matching visible events captured after ``position``, in capture order (subscriptions)."""
    stmt = _filtered(spec, who).where(EpcisEvent.id > position).order_by(EpcisEvent.id).limit(limit)
    return [(r.id, r.body) for r in session.scalars(stmt)]


def last_id(session: Session) -> int:
    """The newest captured event's id (0 when none): the head that live subscriptions watch."""
    return int(session.scalar(select(func.max(EpcisEvent.id))) or 0)
