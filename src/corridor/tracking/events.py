"""From EPCIS events to the facts Corridor tracks: what, when, where, why, and which shipment.

Places are corridor nodes named ``urn:corridor:node:<id>`` (readPoint or bizLocation); shipments
are business transactions ``urn:corridor:shipment:<id>``; containers are ISO 6346 numbers in the
EPC URN ``urn:epc:id:bic:<number>``. CBV values may be given in any of the standard's forms
(``departing``, ``urn:epcglobal:cbv:bizstep:departing``, ``https://ref.gs1.org/cbv/BizStep-departing``).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from corridor.tracking.errors import TrackingError
from corridor.tracking.hashid import event_hash_id

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


def cbv_short(value: Any) -> str | None:
    """``departing`` for every accepted spelling of a CBV bizStep or disposition."""
    if not isinstance(value, str) or not value:
        return None
    if ":" not in value and "-" not in value:  # bare, e.g. "departing": no marker can match
        return value
    for marker in ("BizStep-", "Disp-", "BTT-", "SDT-", "bizstep:", "disp:", "btt:", "sdt:"):
        if marker in value:
            return value.rsplit(marker, 1)[1]
    return value


def _place(block: Any) -> str | None:
    if isinstance(block, dict):
        ident = block.get("id")
        if isinstance(ident, str):
            return ident
    return None


#: Event times outside these years are typing errors, and years near 1 or 9999 overflow on
#: conversion to UTC; refusing them keeps the database and every later read safe.
FIRST_YEAR, LAST_YEAR = 1900, 2999


@dataclass(slots=True)
class Fact:
    """One event, reduced to what tracking and the query index need (the full event is stored too).

    Treated as read-only, but not declared frozen: a frozen dataclass sets each field through
    ``object.__setattr__``, which made building the facts of a 1,000-event capture 3 ms slower.
    """

    event_id: str
    event_type: str
    event_time: datetime
    action: str | None
    biz_step: str | None
    disposition: str | None
    read_point: str | None
    biz_location: str | None
    node: str | None  # corridor node id, if the place names one
    place: str | None  # the place as given
    shipments: tuple[str, ...]
    identifiers: tuple[
        tuple[str, str], ...
    ]  # (role, value): epc, parentID, bizTransaction:<type>...
    error_declaration: bool
    body: dict[str, Any]

    @property
    def epcs(self) -> tuple[str, ...]:
        return tuple(v for r, v in self.identifiers if r in ANY_EPC_ROLES)


#: Roles of identifiers that MATCH_anyEPC looks at.
ANY_EPC_ROLES = ("epc", "parentID", "inputEPC", "outputEPC")


def event_id(event: dict[str, Any]) -> str:
    """The event's own eventID, or GS1's event hash ID when it has none."""
    given = event.get("eventID")
    if isinstance(given, str) and given:
        return given
    return event_hash_id(event)


def parse_time(value: Any, field: str) -> datetime:
    """An aware UTC datetime from an ISO 8601 string, within the years tracking accepts."""
    try:
        when = datetime.fromisoformat(str(value).replace("Z", "+00:00"))
        if when.tzinfo is None:
            when = when.replace(tzinfo=UTC)
        when = when.astimezone(UTC)
    except (ValueError, OverflowError):
        raise TrackingError(
            "invalid", field, f"{str(value)[:40]!r} is not an ISO 8601 date-time in range"
        ) from None
    if not FIRST_YEAR <= when.year <= LAST_YEAR:
        raise TrackingError(
            "invalid", field, f"date-times must fall in the years {FIRST_YEAR}-{LAST_YEAR}"
        )
    return when


#: Where identifiers are, in the order they are listed: (key, kind, role). Kinds: "list" of
#: strings, "one" string, "qty" objects with an epcClass, "ref" objects naming one by their key.
_ID_FIELDS: tuple[tuple[str, str, str], ...] = (
    ("epcList", "list", "epc"),
    ("childEPCs", "list", "epc"),
    ("inputEPCList", "list", "inputEPC"),
    ("outputEPCList", "list", "outputEPC"),
    ("parentID", "one", "parentID"),
    ("quantityList", "qty", "epcClass"),
    ("childQuantityList", "qty", "epcClass"),
    ("inputQuantityList", "qty", "inputEPCClass"),
    ("outputQuantityList", "qty", "outputEPCClass"),
    ("bizTransactionList", "ref", "bizTransaction"),
    ("sourceList", "ref", "source"),
    ("destinationList", "ref", "destination"),
    ("transformationID", "one", "transformationID"),
)


def _identifiers(event: dict[str, Any]) -> tuple[tuple[str, str], ...]:
    """(role, value) of every identifier the event names, in a fixed order, each once; values
    cut to 200 characters (a ``bizTransaction`` also under ``bizTransaction:<type>``)."""
    found: list[tuple[str, str]] = []
    for key, kind, role in _ID_FIELDS:
        value = event.get(key)
        if value is None:
            continue
        if kind == "list":
            if isinstance(value, list):
                found += [(role, e[:200]) for e in value if isinstance(e, str)]
        elif kind == "one":
            if isinstance(value, str):
                found.append((role, value[:200]))
        elif kind == "qty":
            if isinstance(value, list):
                for q in value:
                    if isinstance(q, dict) and isinstance(epc_class := q.get("epcClass"), str):
                        found.append((role, epc_class[:200]))
        elif isinstance(value, list):  # "ref": bizTransactionList, sourceList, destinationList
            for item in value:
                if isinstance(item, dict) and isinstance(named := item.get(role), str):
                    found.append((role, named[:200]))
                    kind_of = item.get("type")
                    if isinstance(kind_of, str):
                        found.append((f"{role}:{cbv_short(kind_of)}", named[:200]))
    if len(found) > 1:
        return tuple(dict.fromkeys(found))
    return tuple(found)


def to_fact(event: dict[str, Any], field: str = "$") -> Fact:
    """The fact of one schema-valid event (``field`` names it in errors)."""
    when = parse_time(event.get("eventTime"), f"{field}.eventTime")
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
    action = event.get("action")
    return Fact(
        event_id=event_id(event),
        event_type=str(event.get("type")),
        event_time=when,
        action=action if isinstance(action, str) else None,
        biz_step=cbv_short(event.get("bizStep")),
        disposition=cbv_short(event.get("disposition")),
        read_point=read_point,
        biz_location=biz_location,
        node=node,
        place=place,
        shipments=shipments,
        identifiers=_identifiers(event),
        error_declaration="errorDeclaration" in event,
        body=event,
    )
