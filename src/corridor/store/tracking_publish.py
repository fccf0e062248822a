"""The hook other packages call to record customs and capacity moments as EPCIS events.

Call it inside the same transaction as the change it reports (a customs release, a ferry booking
loaded), so the event exists exactly when the change does::

    from corridor.store.tracking_publish import publish
    from corridor.tracking.publish import moment_event

    publish(session, authority_org_id, [moment_event(
        "customs_release", shipment_id=decl.shipment_id, node=office_node, when=now(),
        reference=decl.id)])

The events are captured like any other (schema, references, all or nothing), on behalf of the
organisation that acted, which is therefore the one that may later correct them.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from corridor.store.accounts import Principal
from corridor.store.models import NetworkRecord, Organisation, OrgKind
from corridor.store.tracking_capture import CaptureResult, capture
from corridor.tracking.capture import STANDARD_CONTEXT


def publish(session: Session, organisation_id: str, events: list[dict[str, Any]]) -> CaptureResult:
    """Capture ``events`` for ``organisation_id`` (raises TrackingError, storing none, if refused)."""
    org = session.get(Organisation, organisation_id)
    if org is None:
        raise ValueError(f"no organisation {organisation_id!r}")
    who = Principal(
        "platform", "", "platform", org.id, org.name, OrgKind(org.kind), org.country, "hook"
    )
    nodes = set(
        session.scalars(select(NetworkRecord.record_id).where(NetworkRecord.kind == "nodes"))
    )
    document = {
        "@context": [STANDARD_CONTEXT],
        "type": "EPCISDocument",
        "schemaVersion": "2.0",
        "creationDate": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "epcisBody": {"eventList": events},
    }
    return capture(session, who, nodes, document)
