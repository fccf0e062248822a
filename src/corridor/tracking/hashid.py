"""GS1's event hash ID for events captured without an ``eventID`` (EPCIS 2.0 / CBV 2.0, section 8.9).

Why: an event with no identifier cannot be fetched at ``/events/{eventID}``, corrected, or told
apart from its retransmission. GS1 defines a content hash for this, so two repositories name the
same event the same way: a pre-hash string made of the event's fields in a fixed order
(``name=value``, lists sorted, times in UTC with milliseconds, CBV values in their web-URI form),
excluding ``eventID``, ``recordTime``, ``errorDeclaration`` and ``certificationInfo``; then
``ni:///sha-256;<hex>?ver=CBV2.0``.

Limits of this implementation: EPC URNs are hashed as given (GS1's reference converts them to
canonical Digital Link URIs first), and user extensions are serialised as sorted compact JSON.
"""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from typing import Any

#: The canonical order of the standard fields (CBV 2.0, event hash pre-hash string).
ORDER = (
    "eventType",
    "eventTime",
    "eventTimeZoneOffset",
    "parentID",
    "epcList",
    "inputEPCList",
    "childEPCs",
    "quantityList",
    "childQuantityList",
    "inputQuantityList",
    "outputEPCList",
    "outputQuantityList",
    "action",
    "transformationID",
    "bizStep",
    "disposition",
    "persistentDisposition",
    "readPoint",
    "bizLocation",
    "bizTransactionList",
    "sourceList",
    "destinationList",
    "sensorElementList",
    "ilmd",
)
EXCLUDED = {"eventID", "recordTime", "errorDeclaration", "certificationInfo", "@context", "type"}
CBV_WEB = "https://ref.gs1.org/cbv/"
_CBV_FIELDS = {"bizStep": "BizStep-", "disposition": "Disp-"}


def _time(value: str) -> str:
    moment = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return (
        moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%S.") + f"{moment.microsecond // 1000:03d}Z"
    )


def _cbv(name: str, value: str) -> str:
    prefix = _CBV_FIELDS[name]
    if ":" not in value:  # bare CBV value, e.g. "departing"
        return CBV_WEB + prefix + value
    lower = prefix.lower().rstrip("-")
    marker = f"urn:epcglobal:cbv:{lower}:"
    if value.startswith(marker):
        return CBV_WEB + prefix + value.removeprefix(marker)
    return value


def _flat(name: str, value: Any) -> list[str]:
    """``name=value`` strings of one field; nested objects flatten, lists sort."""
    if isinstance(value, dict):
        if set(value) == {"id"}:
            return [f"{name}={value['id']}"]
        parts: list[str] = []
        for key in sorted(value):
            parts += _flat(key, value[key])
        return [name + "".join(parts)] if parts else []
    if isinstance(value, list):
        items = sorted(part for item in value for part in _flat(name, item))
        return items
    if isinstance(value, bool):
        return [f"{name}={'true' if value else 'false'}"]
    if isinstance(value, str) and name in _CBV_FIELDS:
        return [f"{name}={_cbv(name, value)}"]
    return [f"{name}={value}"]


def pre_hash(event: dict[str, Any]) -> str:
    """The canonical string GS1's algorithm hashes."""
    parts = [f"eventType={event.get('type', '')}"]
    if isinstance(event.get("eventTime"), str):
        parts.append(f"eventTime={_time(event['eventTime'])}")
    for name in ORDER[2:]:
        if name in event:
            parts += _flat(name, event[name])
    extensions = sorted(k for k in event if k not in EXCLUDED and k not in ORDER)
    for name in extensions:
        parts.append(f"{name}={json.dumps(event[name], sort_keys=True, separators=(',', ':'))}")
    return "".join(parts)


def event_hash_id(event: dict[str, Any]) -> str:
    """``ni:///sha-256;<hex>?ver=CBV2.0`` for ``event``."""
    digest = hashlib.sha256(pre_hash(event).encode("utf-8")).hexdigest()
    return f"ni:///sha-256;{digest}?ver=CBV2.0"
