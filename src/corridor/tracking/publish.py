"""Customs and capacity moments as EPCIS events, so one query shows a container's whole story.

Each builder returns one EPCIS 2.0 ObjectEvent with a CBV 2.0 business step and disposition:

| moment                    | bizStep     | disposition      |
|---------------------------|-------------|------------------|
| customs release           | inspecting  | conformant       |
| customs hold              | holding     | non_conformant   |
| ferry loading             | loading     | in_progress      |
| ferry unloading           | unloading   | in_progress      |
| ferry departure           | departing   | in_transit       |
| e-queue check-in (border) | arriving    | in_progress      |

(CBV 2.0, GS1 Core Business Vocabulary, sections 7.1-7.2: standard bizStep and disposition values.)
Why these steps: CBV ``loading`` is "loading objects into a vehicle" (the ferry, before it leaves),
``departing`` is "the object leaving a location on its way to a destination" (the sailing casting
off), ``unloading`` (CBV: "unloading objects from a vehicle") is cargo taken off a ferry
before it sails, and ``arriving`` is "the object arriving at a location" (the truck reporting at the
checkpoint on its booked hour); the customs inspection at the checkpoint, if any, is the office's
own ``inspecting``/``holding`` event. ``in_progress`` (CBV: the object is being processed in a
business step) fits loading and a check-in; ``in_transit`` (CBV: in transit between locations)
fits a departed sailing.
The eventID is derived from what happened (kind, reference, time), so publishing the same moment
twice is a duplicate, not a second event. Other packages call these and hand the result to
``corridor.store.tracking_publish.publish``.
"""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any, Literal
from urllib.parse import quote

from corridor.tracking.events import CONTAINER_PREFIX, NODE_PREFIX, SHIPMENT_PREFIX

Moment = Literal[
    "customs_release",
    "customs_hold",
    "ferry_loading",
    "ferry_unloading",
    "ferry_departure",
    "equeue_checkin",
]
STEPS: dict[str, tuple[str, str]] = {
    "customs_release": ("inspecting", "conformant"),
    "customs_hold": ("holding", "non_conformant"),
    "ferry_loading": ("loading", "in_progress"),
    "ferry_unloading": ("unloading", "in_progress"),
    "ferry_departure": ("departing", "in_transit"),
    "equeue_checkin": ("arriving", "in_progress"),
}
#: Business transaction type of a capacity booking (a held slot on a sailing) that a moment names.
BOOKING_TYPE = "urn:corridor:btt:capacity_booking"
BOOKING_PREFIX = "urn:corridor:booking:"
#: Business transaction types Corridor adds for the documents behind a moment.
REFERENCE_TYPES = {
    "customs_release": "urn:corridor:btt:customs_declaration",
    "customs_hold": "urn:corridor:btt:customs_declaration",
    "ferry_loading": "urn:corridor:btt:sailing",
    "ferry_unloading": "urn:corridor:btt:sailing",
    "ferry_departure": "urn:corridor:btt:sailing",
    "equeue_checkin": "urn:corridor:btt:equeue_slot",
}
_NAMESPACE = uuid.UUID("0d8b4f1e-6c59-4f0e-9b67-3f1f6c2f7a11")


def moment_event(
    moment: Moment,
    *,
    shipment_id: str | None,
    node: str,
    when: datetime,
    reference: str,
    containers: list[str] | tuple[str, ...] = (),
    booking: str | None = None,
) -> dict[str, Any]:
    """The EPCIS event of ``moment`` for a shipment at corridor ``node``.

    ``reference``: the declaration, sailing or queue slot id the moment belongs to; ``booking``:
    the capacity booking (or e-queue ticket) behind it, added as a business transaction. Without
    a shipment the event names only its references (a truck checked in without a known shipment).
    """
    step, disposition = STEPS[moment]
    moment_utc = when.astimezone(UTC)
    stamp = moment_utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment_utc.microsecond // 1000:03d}Z"
    key = f"{moment}|{shipment_id or ''}|{reference}|{stamp}"  # the customs moments' key as before
    ident = uuid.uuid5(_NAMESPACE, key + (f"|{booking}" if booking else ""))
    event: dict[str, Any] = {
        "type": "ObjectEvent",
        "eventID": f"urn:uuid:{ident}",
        "eventTime": stamp,
        "eventTimeZoneOffset": "+00:00",
        "epcList": [CONTAINER_PREFIX + c for c in containers],
        "action": "OBSERVE",
        "bizStep": step,
        "disposition": disposition,
        "readPoint": {"id": NODE_PREFIX + node},
        "bizLocation": {"id": NODE_PREFIX + node},
        "bizTransactionList": [
            {
                "type": REFERENCE_TYPES[moment],
                # A sailing's key has "|" in it: percent-encoded, the reference stays a URI.
                "bizTransaction": "urn:corridor:ref:" + quote(reference, safe="-._~"),
            },
        ],
    }
    if shipment_id:
        event["bizTransactionList"].insert(
            0, {"type": "bol", "bizTransaction": SHIPMENT_PREFIX + shipment_id}
        )
    if booking:
        event["bizTransactionList"].append(
            {"type": BOOKING_TYPE, "bizTransaction": BOOKING_PREFIX + quote(booking, safe="-._~")}
        )
    return event
