"""From EPCIS events to the facts Corridor tracks: what, when, where, why, and which shipment.

Places are corridor nodes named ``urn:corridor:node:<id>`` (readPoint or bizLocation); shipments
are business transactions ``urn:corridor:shipment:<id>``; containers are ISO 6346 numbers in the
EPC URN ``urn:epc:id:bic:<number>``. CBV values may be given in any of the standard's forms
(``departing``, ``urn:epcglobal:cbv:bizstep:departing``, ``https://ref.gs1.org/cbv/BizStep-departing``).
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

NODE_PREFIX = "urn:corridor:node:"
SHIPMENT_PREFIX = "urn:corridor:shipment:"
CONTAINER_PREFIX = "urn:epc:id:bic:"
EVENT_TYPES = (
    "ObjectEvent",
    "AggregationEvent",
    "TransactionEvent",
    "TransformationEvent",
    "AssociationEvent",
)


def cbv_short(value: str | None) -> str | None:
    """``departing`` for every accepted spelling of a CBV bizStep or disposition."""
    if not value:
        return None
    for marker in ("BizStep-", "Disp-", "bizstep:", "disp:"):
        if marker in value:
            return value.rsplit(marker, 1)[1]
    return value


def _place(block: Any) -> str | None:
    if isinstance(block, dict):
        ident = block.get("id")
        if isinstance(ident, str):
            return ident
    return None


@dataclass(frozen=True)
class Fact:
    """One event, reduced to what tracking needs (the full event is stored too)."""

    event_id: str
    event_type: str
    event_time: datetime
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    node: str | None  # corridor node id, if the place names one
    place: str | None  # the place as given
    shipments: tuple[str, ...]
    epcs: tuple[str, ...]
    error_declaration: bool
    body: dict[str, Any]


def event_id(event: dict[str, Any]) -> str:
    """The event's own eventID, or a stable one derived from its content when it has none.

    (A content hash of the canonical JSON; not the CBV 2.0 event-hash algorithm, which
    normalises more than this does.)
    """
    given = event.get("eventID")
    if isinstance(given, str) and given:
        return given
    canonical = json.dumps(
        {k: v for k, v in event.items() if k != "recordTime"}, sort_keys=True, separators=(",", ":")
    ).encode()
    return f"ni:///sha-256;{hashlib.sha256(canonical).hexdigest()}?ver=corridor"


def _epcs(event: dict[str, Any]) -> tuple[str, ...]:
    found: list[str] = []
    for key in ("epcList", "childEPCs", "inputEPCList", "outputEPCList"):
        found += [e for e in event.get(key, []) if isinstance(e, str)]
    if isinstance(event.get("parentID"), str):
        found.append(event["parentID"])
    for key in ("quantityList", "childQuantityList", "inputQuantityList", "outputQuantityList"):
        found += [
            q["epcClass"] for q in event.get(key, []) if isinstance(q, dict) and "epcClass" in q
        ]
    return tuple(dict.fromkeys(found))


def to_fact(event: dict[str, Any]) -> Fact:
    when = datetime.fromisoformat(str(event["eventTime"]).replace("Z", "+00:00"))
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    read_point, biz_location = _place(event.get("readPoint")), _place(event.get("bizLocation"))
    place = biz_location or read_point
    node = None
    for candidate in (biz_location, read_point):
        if candidate and candidate.startswith(NODE_PREFIX):
            node = candidate.removeprefix(NODE_PREFIX)
            break
    shipments = tuple(
        str(t["bizTransaction"]).removeprefix(SHIPMENT_PREFIX)
        for t in event.get("bizTransactionList", [])
        if isinstance(t, dict) and str(t.get("bizTransaction", "")).startswith(SHIPMENT_PREFIX)
    )
    return Fact(
        event_id=event_id(event),
        event_type=str(event["type"]),
        event_time=when.astimezone(UTC),
        biz_step=cbv_short(event.get("bizStep")),
        disposition=cbv_short(event.get("disposition")),
        read_point=read_point,
        biz_location=biz_location,
        node=node,
        place=place,
        shipments=shipments,
        epcs=_epcs(event),
        error_declaration="errorDeclaration" in event,
        body=event,
    )
