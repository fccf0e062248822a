"""Named queries and their subscribers (webhook or WebSocket), each reading events in order.

A subscription keeps ``position``, the capture-order id of the last event it was given. A delivery
round reads the next events after it that match the query and that the subscriber's organisation
may see, sends them, and only then moves the position, in one conditional UPDATE: each matching
event reaches the subscriber once, in capture order, and a subscriber that was away resumes where
it stopped. (A crash between the send and the UPDATE re-sends that one batch: at-least-once at the
edge, with eventIDs to drop the repeat.)
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
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from corridor.store import tracking_query
from corridor.store.accounts import Principal, now
from corridor.store.db import Database
from corridor.store.models import EpcisEvent, Organisation, OrgKind, User
from corridor.store.tracking_tables import EpcisNamedQuery, EpcisSubscription
from corridor.tracking.errors import TrackingError
from corridor.tracking.query import parse
from corridor.webhooks import TargetRefused, backoff_s, check_target, http_client, post
from corridor.webhooks.guard import Network as IpNetwork

BATCH = 500
MAX_ATTEMPTS = 12


def create_query(
    session: Session, who: Principal, name: str, params: dict[str, str]
) -> EpcisNamedQuery:
    parse(params)  # refuse bad parameters now, not at the first delivery
    row = EpcisNamedQuery(
        organisation_id=who.organisation_id, name=name, params=params, created_at=now()
    )
    try:
        with session.begin_nested():
            session.add(row)
    except IntegrityError:
        raise TrackingError("conflict", "name", f"a query named {name!r} exists") from None
    return row


def queries(session: Session, who: Principal) -> list[EpcisNamedQuery]:
    return list(
        session.scalars(
            select(EpcisNamedQuery)
            .where(EpcisNamedQuery.organisation_id == who.organisation_id)
            .order_by(EpcisNamedQuery.name)
        )
    )


def get_query(session: Session, who: Principal, name: str) -> EpcisNamedQuery:
    row = session.scalar(
        select(EpcisNamedQuery).where(
            EpcisNamedQuery.organisation_id == who.organisation_id, EpcisNamedQuery.name == name
        )
    )
    if row is None:
        raise TrackingError("not_found", "queryName", f"no query named {name!r}")
    return row


def delete_query(session: Session, who: Principal, name: str) -> None:
    row = get_query(session, who, name)
    for sub in session.scalars(
        select(EpcisSubscription).where(EpcisSubscription.query_id == row.id)
    ):
        session.delete(sub)
    session.flush()
    session.delete(row)


def subscribe(
    session: Session,
    who: Principal,
    name: str,
    dest: str | None,
    *,
    from_start: bool = False,
    allowed: Iterable[IpNetwork] = (),
    quota: int = 20,
) -> tuple[EpcisSubscription, str]:
    """A subscription to query ``name`` (webhook ``dest``, or None for a WebSocket) and its secret.

    It starts after the events stored now, unless ``from_start``.
    """
    query = get_query(session, who, name)
    if dest is not None:
        try:
            check_target(dest, allowed, registering=True)
        except TargetRefused as exc:
            raise TrackingError("invalid", "dest", exc.reason) from None
    count = session.scalar(
        select(func.count())
        .select_from(EpcisSubscription)
        .where(EpcisSubscription.organisation_id == who.organisation_id)
    )
    if (count or 0) >= quota:
        raise TrackingError("quota", "dest", f"at most {quota} subscriptions per organisation")
    start = 0 if from_start else (session.scalar(select(func.max(EpcisEvent.id))) or 0)
    secret = secrets.token_hex(24)
    sub = EpcisSubscription(
        id=uuid.uuid4().hex[:16],
        query_id=query.id,
        organisation_id=who.organisation_id,
        user_id=who.user_id,
        dest=dest,
        secret=secret,
        position=start,
        created_at=now(),
        state="idle",
        attempts=0,
        next_attempt_at=now(),
        last_error=None,
    )
    session.add(sub)
    session.flush()
    return sub, secret


def subscriptions(session: Session, who: Principal, name: str) -> list[EpcisSubscription]:
    query = get_query(session, who, name)
    return list(
        session.scalars(select(EpcisSubscription).where(EpcisSubscription.query_id == query.id))
    )


def get_subscription(session: Session, who: Principal, name: str, sub_id: str) -> EpcisSubscription:
    query = get_query(session, who, name)
    sub = session.get(EpcisSubscription, sub_id)
    if sub is None or sub.query_id != query.id:
        raise TrackingError("not_found", "subscriptionID", "no such subscription")
    return sub


def unsubscribe(session: Session, who: Principal, name: str, sub_id: str) -> None:
    session.delete(get_subscription(session, who, name, sub_id))


def _principal_of(session: Session, sub: EpcisSubscription) -> Principal | None:
    """The subscriber acts with its creator's rights as they are now (not as they were)."""
    user = session.get(User, sub.user_id)
    org = session.get(Organisation, sub.organisation_id)
    if user is None or org is None:
        return None
    return Principal(
        user.id,
        user.email,
        user.name,
        org.id,
        org.name,
        OrgKind(org.kind),
        org.country,
        "subscription",
    )


def next_batch(
    session: Session, sub: EpcisSubscription, limit: int = BATCH
) -> list[tuple[int, dict[str, Any]]]:
    """The events after the subscription's position that it may see and its query matches."""
    who = _principal_of(session, sub)
    query = session.get(EpcisNamedQuery, sub.query_id)
    if who is None or query is None:
        return []
    return tracking_query.after(session, who, parse(query.params), sub.position, limit)


def advance(session: Session, sub_id: str, expected: int, position: int) -> bool:
    """Move the position from ``expected`` to ``position``; False if another round moved it."""
    moved = session.execute(
        update(EpcisSubscription)
        .where(EpcisSubscription.id == sub_id, EpcisSubscription.position == expected)
        .values(position=position, attempts=0, last_error=None)
    )
    return bool(moved.rowcount)  # type: ignore[attr-defined]


def query_document(
    events: list[dict[str, Any]], name: str, sub_id: str | None = None
) -> dict[str, Any]:
    from corridor.tracking.capture import STANDARD_CONTEXT

    results: dict[str, Any] = {"queryName": name, "resultsBody": {"eventList": events}}
    if sub_id:
        results["subscriptionID"] = sub_id
    return {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISQueryDocument",
        "schemaVersion": "2.0",
        "creationDate": now().strftime("%Y-%m-%dT%H:%M:%S.%fZ")[:-4] + "Z",
        "epcisBody": {"queryResults": results},
    }


def deliver_webhooks(
    db: Database,
    first_backoff_s: float,
    client: httpx.Client | None = None,
    allowed: Iterable[IpNetwork] = (),
) -> int:
    """One round: each due webhook subscription gets its next batch. Events delivered."""
    sent = 0
    own = client is None
    http = client or http_client()
    nets = list(allowed)
    try:
        with db.session() as s:
            due = list(
                s.scalars(
                    select(EpcisSubscription.id).where(
                        EpcisSubscription.dest.is_not(None),
                        EpcisSubscription.state == "idle",
                        EpcisSubscription.next_attempt_at <= now(),
                    )
                )
            )
        for sub_id in due:
            with db.write_session() as s:  # claim: one round sends a subscription at a time
                claimed = s.execute(
                    update(EpcisSubscription)
                    .where(EpcisSubscription.id == sub_id, EpcisSubscription.state == "idle")
                    .values(state="sending")
                )
                if not claimed.rowcount:  # type: ignore[attr-defined]
                    continue
            try:
                with db.session() as s:  # read; no transaction stays open while posting
                    sub = s.get(EpcisSubscription, sub_id)
                    assert sub is not None
                    batch = next_batch(s, sub)
                    name = s.get(EpcisNamedQuery, sub.query_id)
                    dest, secret, position = sub.dest or "", sub.secret, sub.position
                    body = orjson.dumps(
                        query_document([b for _, b in batch], name.name if name else "", sub_id)
                    )
                if not batch:
                    continue
                outcome = post(http, dest, body, secret, nets)
                with db.write_session() as s:
                    if outcome.ok:
                        advance(s, sub_id, position, batch[-1][0])
                        sent += len(batch)
                    else:
                        row = s.get(EpcisSubscription, sub_id)
                        if row is not None:
                            row.attempts += 1
                            row.last_error = outcome.error
                            row.next_attempt_at = now() + timedelta(
                                seconds=backoff_s(first_backoff_s, min(row.attempts, MAX_ATTEMPTS))
                            )
            finally:
                with db.write_session() as s:
                    s.execute(
                        update(EpcisSubscription)
                        .where(EpcisSubscription.id == sub_id)
                        .values(state="idle")
                    )
    finally:
        if own:
            http.close()
    return sent
