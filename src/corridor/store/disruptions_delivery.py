"""Notices to subscribers' webhooks: each matching change once, in order, signed, retried.

A subscription's cursor (the last ``notice_versions`` id it has passed) moves only after its
webhook answered 2xx, so a failed POST is sent again in a later round; the cursor also moves over
changes the filter does not want. One round sends at most one batch per subscription.
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import UTC, datetime

import httpx
import orjson
from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.disruptions import SubscriptionFilter, matches
from corridor.network import Network
from corridor.routing import Itinerary
from corridor.store import disruptions as store
from corridor.store.db import Database
from corridor.store.models import Shipment
from corridor.webhooks import http_client, post
from corridor.webhooks.guard import Network as IpNetwork

#: Changes sent in one POST at most.
BATCH = 50


def _plans(s: Session, organisation_id: str, wanted: SubscriptionFilter) -> dict[str, Itinerary]:
    """The plans of the subscriber's own shipments that its filter names."""
    if not wanted.shipments:
        return {}
    rows = s.scalars(
        select(Shipment).where(
            Shipment.organisation_id == organisation_id, Shipment.id.in_(wanted.shipments)
        )
    )
    return {r.id: Itinerary.model_validate(r.itinerary) for r in rows}


def deliver_notices(
    db: Database,
    network: Network,
    allowed: Iterable[IpNetwork] = (),
    client: httpx.Client | None = None,
) -> int:
    """One round over every webhook subscription; returns the notices delivered."""
    sent = 0
    nets = list(allowed)
    own = client is None
    http = client or http_client()
    try:
        with db.session() as s:
            subs = [
                (r.id, r.organisation_id, r.url, r.secret, r.cursor, r.filter)
                for r in store.subscriptions(s)
                if r.url
            ]
        for sub_id, org, url, secret, cursor, raw in subs:
            wanted = SubscriptionFilter.model_validate(raw)
            with db.session() as s:
                changes = store.changes_after(s, cursor, BATCH)
                plans = _plans(s, org, wanted)
            if not changes:
                continue
            chosen = [(i, a, n) for i, a, n in changes if matches(wanted, n, network, plans)]
            if chosen:
                body = orjson.dumps(
                    {
                        "subscription": sub_id,
                        "sent_at": datetime.now(UTC).isoformat(),
                        "changes": [
                            {"id": i, "action": a, "notice": n.model_dump(mode="json")}
                            for i, a, n in chosen
                        ],
                    }
                )
                if not post(http, url or "", body, secret, nets).ok:
                    continue  # the cursor stays: sent again next round
                sent += len(chosen)
            with db.write_session() as s:
                store.advance(s, sub_id, cursor, changes[-1][0])
    finally:
        if own:
            http.close()
    return sent
