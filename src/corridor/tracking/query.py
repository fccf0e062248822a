"""EPCIS simple-event-query parameters, parsed into a typed specification the store turns into SQL.

Why here: what a parameter means (pipe-delimited value lists, ``idpat`` patterns, which identifier
roles ``MATCH_anyEPC`` covers, the range of accepted times, the limits that keep a query cheap) is
the standard's rule, not the database's. Bad parameters raise TrackingError naming the parameter.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime

from corridor.tracking.errors import TrackingError
from corridor.tracking.events import ANY_EPC_ROLES, cbv_short, parse_time

#: Values one parameter may list; more make the query too complex (answered 4xx, not a slow scan).
MAX_VALUES = 100
PAGE_MAX = 1000

#: Column-backed list parameters: query name -> the index column they compare.
EQ_COLUMNS = {
    "eventType": "event_type",
    "EQ_action": "action",
    "EQ_bizStep": "biz_step",
    "EQ_disposition": "disposition",
    "EQ_readPoint": "read_point",
    "WD_readPoint": "read_point",
    "EQ_bizLocation": "place",
    "WD_bizLocation": "place",
    "EQ_eventID": "event_id",
    "EQ_shipment": "shipment_id",
}
#: Identifier patterns: parameter -> identifier roles it searches.
MATCH_ROLES: dict[str, tuple[str, ...]] = {
    "MATCH_epc": ("epc",),
    "MATCH_parentID": ("parentID",),
    "MATCH_inputEPC": ("inputEPC",),
    "MATCH_outputEPC": ("outputEPC",),
    "MATCH_anyEPC": ANY_EPC_ROLES,
    "MATCH_epcClass": ("epcClass",),
    "MATCH_inputEPCClass": ("inputEPCClass",),
    "MATCH_outputEPCClass": ("outputEPCClass",),
    "MATCH_anyEPCClass": ("epcClass", "inputEPCClass", "outputEPCClass"),
    "EQ_transformationID": ("transformationID",),
}
EXISTS_COLUMNS = {
    "EXISTS_errorDeclaration": "error_declared",
    "EXISTS_bizStep": "biz_step",
    "EXISTS_disposition": "disposition",
    "EXISTS_readPoint": "read_point",
    "EXISTS_bizLocation": "place",
    "EXISTS_action": "action",
}
TIME_PARAMS = {
    "GE_eventTime": ("event_time", ">="),
    "LT_eventTime": ("event_time", "<"),
    "GE_recordTime": ("record_time", ">="),
    "LT_recordTime": ("record_time", "<"),
}
_TYPED = re.compile(r"^EQ_(bizTransaction|source|destination)_(.+)$")
PAGING = ("perPage", "nextPageToken")


@dataclass(frozen=True)
class Match:
    roles: tuple[str, ...]
    exact: tuple[str, ...]
    prefixes: tuple[str, ...]  # "starts with" patterns (from idpat and trailing *)


@dataclass
class QuerySpec:
    """A parsed simple event query."""

    equals: dict[str, tuple[str, ...]] = field(default_factory=dict)  # column -> values
    times: list[tuple[str, str, datetime]] = field(default_factory=list)  # (column, op, moment)
    matches: list[Match] = field(default_factory=list)
    exists: list[str] = field(default_factory=list)  # columns
    error_declared: bool | None = None
    order_by: str = "id"  # id (capture order), event_time or record_time
    descending: bool = False
    event_count_limit: int | None = None
    max_event_count: int | None = None

    def is_capture_ordered(self) -> bool:
        return self.order_by == "id" and not self.descending


def values(name: str, raw: str) -> tuple[str, ...]:
    """A pipe-delimited list (``a|b|c``), as the REST binding writes lists."""
    items = tuple(v for v in raw.split("|") if v)
    if not items:
        raise TrackingError("invalid", name, "no value given")
    if len(items) > MAX_VALUES:
        raise TrackingError(
            "invalid", name, f"at most {MAX_VALUES} values per parameter (query too complex)"
        )
    for item in items:
        if len(item) > 500:
            raise TrackingError("invalid", name, "a value longer than 500 characters")
    return items


def _pattern(value: str) -> tuple[str | None, str | None]:
    """(exact, prefix) for an EPC or an EPC pattern: ``urn:epc:idpat:sgtin:0614141.107346.*``."""
    if value.startswith("urn:epc:idpat:"):
        body = "urn:epc:id:" + value.removeprefix("urn:epc:idpat:")
        head, _, _ = body.partition("*")
        return None, head
    if value.endswith("*"):
        return None, value[:-1]
    return value, None


def parse(params: Mapping[str, str]) -> QuerySpec:
    """The specification of the query ``params`` (paging parameters are left to the caller)."""
    spec = QuerySpec()
    for name, raw in params.items():
        if name in PAGING:
            continue
        if name in EQ_COLUMNS:
            column = EQ_COLUMNS[name]
            items = values(name, raw)
            if column in ("biz_step", "disposition"):
                items = tuple(cbv_short(v) or v for v in items)
            spec.equals[column] = spec.equals.get(column, ()) + items
        elif name in TIME_PARAMS:
            column, op = TIME_PARAMS[name]
            spec.times.append((column, op, parse_time(raw, name)))
        elif name in MATCH_ROLES:
            exact, prefixes = [], []
            for item in values(name, raw):
                e, p = _pattern(item)
                if e is not None:
                    exact.append(e)
                if p is not None:
                    prefixes.append(p)
                    if item.startswith("urn:epc:idpat:"):
                        exact.append(item)  # quantity lists may store the pattern itself
            spec.matches.append(Match(MATCH_ROLES[name], tuple(exact), tuple(prefixes)))
        elif (typed := _TYPED.match(name)) is not None:
            role = f"{typed.group(1)}:{cbv_short(typed.group(2)) or typed.group(2)}"
            spec.matches.append(Match((role,), values(name, raw), ()))
        elif name in EXISTS_COLUMNS:
            if name == "EXISTS_errorDeclaration":
                spec.error_declared = True
            else:
                spec.exists.append(EXISTS_COLUMNS[name])
        elif name == "orderBy":
            if raw not in ("eventTime", "recordTime"):
                raise TrackingError("invalid", name, "orderBy is eventTime or recordTime")
            spec.order_by = "event_time" if raw == "eventTime" else "record_time"
        elif name == "orderDirection":
            if raw not in ("ASC", "DESC"):
                raise TrackingError("invalid", name, "orderDirection is ASC or DESC")
            spec.descending = raw == "DESC"
        elif name in ("eventCountLimit", "maxEventCount"):
            try:
                count = int(raw)
            except ValueError:
                raise TrackingError("invalid", name, "a positive integer") from None
            if count < 1:
                raise TrackingError("invalid", name, "a positive integer")
            if name == "eventCountLimit":
                spec.event_count_limit = count
            else:
                spec.max_event_count = count
        else:
            raise TrackingError(
                "invalid", name, "a query parameter this repository does not support"
            )
    if spec.order_by == "id" and spec.descending:
        spec.order_by = "record_time"
    if spec.event_count_limit is not None and spec.max_event_count is not None:
        raise TrackingError(
            "invalid", "eventCountLimit", "eventCountLimit and maxEventCount exclude each other"
        )
    if spec.event_count_limit is not None and spec.order_by == "id":
        pass  # capture order is a total order: the limit is well defined
    return spec


# -- page tokens: opaque, tamper-evident enough to refuse anything not written by us --------------


def encode_token(position: tuple[str, int], secret: bytes) -> str:
    """A page token for the row after which the next page starts."""
    import hashlib
    import hmac

    key, last = position
    text = f"{key}:{last}"
    tag = hmac.new(secret, text.encode(), hashlib.sha256).hexdigest()[:16]
    return base64.urlsafe_b64encode(f"{text}:{tag}".encode()).decode().rstrip("=")


def decode_token(token: str, secret: bytes) -> tuple[str, int]:
    """The position in a token from :func:`encode_token`; TrackingError for anything else."""
    import hashlib
    import hmac

    bad = TrackingError("invalid", "nextPageToken", "not a page token from this repository")
    if len(token) > 400:
        raise bad
    try:
        text = base64.urlsafe_b64decode(token + "=" * (-len(token) % 4)).decode("ascii")
        key, last, tag = text.rsplit(":", 2)
        position = int(last)
    except (ValueError, UnicodeDecodeError, binascii.Error):
        raise bad from None
    expected = hmac.new(secret, f"{key}:{last}".encode(), hashlib.sha256).hexdigest()[:16]
    if not hmac.compare_digest(expected, tag) or not 0 <= position < 2**62:
        raise bad
    return key, position
