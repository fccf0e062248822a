"""Tracking persistence, split by job; this module keeps the names other packages call.

- ``tracking_capture``: storing captured events (race-safe, all or nothing);
- ``tracking_query``: visibility and the EPCIS queries;
- ``tracking_status``: a shipment's status and the shared learned-dwell cache;
- ``tracking_alerts``: ETA alerts, their debounce and their webhooks;
- ``tracking_subscriptions``: named queries and subscriptions;
- ``tracking_tables``: the tables added by migration 0008.
"""

from __future__ import annotations

from typing import Any

import httpx
from sqlalchemy.orm import Session

from corridor.network import Network
from corridor.store.accounts import Principal
from corridor.store.db import Database
from corridor.store.tracking_alerts import deliver_due as _deliver_alerts
from corridor.store.tracking_alerts import evaluate_alerts
from corridor.store.tracking_capture import CaptureResult
from corridor.store.tracking_capture import capture as _capture
from corridor.store.tracking_status import shipment_status as status
from corridor.store.tracking_subscriptions import deliver_webhooks
from corridor.webhooks.guard import Network as IpNetwork

__all__ = ["CaptureResult", "capture", "deliver_due", "evaluate_alerts", "status"]


def capture(session: Session, who: Principal, network: Network, document: Any) -> CaptureResult:
    """Capture ``document`` for ``who`` against the corridor ``network`` (all or nothing)."""
    return _capture(session, who, network.nodes.keys(), document)


def deliver_due(
    db: Database,
    backoff_s: float,
    allowed: list[IpNetwork] | None = None,
    client: httpx.Client | None = None,
) -> int:
    """One delivery round of everything outgoing: ETA alerts, then subscription webhooks.

    ``allowed``: internal networks webhooks may reach; by default those of the process Settings.
    ``client``: the HTTP client to post with (the server's delivery thread keeps one).
    """
    if allowed is None:
        from corridor.settings import get_settings
        from corridor.webhooks.guard import parse_allowed

        allowed = parse_allowed(get_settings().webhook_allow_nets)
    nets = allowed
    return _deliver_alerts(db, backoff_s, client, allowed=nets) + deliver_webhooks(
        db, backoff_s, client, allowed=nets
    )
