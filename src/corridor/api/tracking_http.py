"""HTTP plumbing of the EPCIS binding: problem details, content negotiation, GS1 headers, bodies.

Kept apart from the routers so each of them only translates a request into a call and back.
"""

from __future__ import annotations

from typing import Annotated, Any

import orjson
from fastapi import Depends, Request
from fastapi.responses import Response
from fastapi.security import HTTPAuthorizationCredentials

from corridor.api.deps import bearer
from corridor.api.errors import ApiError
from corridor.settings import Settings
from corridor.store.accounts import Principal, principal_for
from corridor.store.db import Database
from corridor.tracking.errors import TrackingError

EPCIS_VERSION = "2.0.0"
CBV_VERSION = "2.0.0"
JSON_TYPES = ("application/json", "application/ld+json")
XML_TYPES = ("application/xml", "text/xml")
#: HTTP status and GS1 exception type of each tracking error code.
STATUS: dict[str, tuple[int, str]] = {
    "invalid": (400, "epcisException:ValidationException"),
    "too_large": (413, "epcisException:CaptureLimitExceededException"),
    "unknown_reference": (422, "epcisException:ValidationException"),
    "forbidden": (403, "epcisException:SecurityException"),
    "conflict": (409, "epcisException:ResourceAlreadyExistsException"),
    "not_found": (404, "epcisException:NoSuchResourceException"),
    "quota": (429, "epcisException:ImplementationException"),
    "not_acceptable": (406, "epcisException:NotAcceptable"),
    "unsupported_media_type": (415, "epcisException:UnsupportedMediaType"),
    "unavailable": (503, "epcisException:ImplementationException"),
}

GS1_HEADERS = {
    "GS1-EPCIS-Version": EPCIS_VERSION,
    "GS1-EPCIS-Min": EPCIS_VERSION,
    "GS1-EPCIS-Max": EPCIS_VERSION,
    "GS1-CBV-Version": CBV_VERSION,
    "GS1-CBV-Min": CBV_VERSION,
    "GS1-CBV-Max": CBV_VERSION,
    "GS1-Extensions": "",
}


def problem(exc: TrackingError) -> Response:
    """RFC 9457 problem details naming the event index and field, plus the house error shape."""
    status, kind = STATUS.get(exc.code, (400, "epcisException:ValidationException"))
    body = {
        "type": kind,
        "title": exc.reason,
        "status": status,
        "errors": [
            {"index": p.index, "path": p.field, "field": p.field, "message": p.reason}
            for p in exc.problems[:100]
        ]
        or [{"index": None, "path": exc.field, "field": exc.field, "message": exc.reason}],
        "error": {"code": exc.code, "field": exc.field, "reason": exc.reason},
    }
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type="application/problem+json",
        headers=GS1_HEADERS,
    )


def json_response(
    body: Any, request: Request, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """``body`` as JSON-LD or JSON, whichever the client accepts (orjson: fast on big pages)."""
    media = (
        "application/ld+json"
        if "application/ld+json" in request.headers.get("accept", "")
        else "application/json"
    )
    return Response(
        orjson.dumps(body),
        status_code=status,
        media_type=media,
        headers={**GS1_HEADERS, **(headers or {})},
    )


def _version_ok(value: str | None) -> bool:
    return value is None or _key(value)[:2] == (2, 0)


def _accepted(request: Request) -> list[tuple[float, int, str]]:
    """The Accept header's media types, best first (by q, then by order of mention)."""
    found = []
    for i, part in enumerate(request.headers.get("accept", "*/*").lower().split(",")):
        media, *params = (p.strip() for p in part.split(";"))
        q = 1.0
        for param in params:
            if param.startswith("q="):
                try:
                    q = float(param[2:])
                except ValueError:
                    q = 0.0
        if media and q > 0:
            found.append((-q, i, media))
    return sorted(found)


def wants_xml(request: Request) -> bool:
    """Whether the client prefers EPCIS XML to JSON(-LD) (``*/*`` and ties answer JSON)."""
    for _, _, media in _accepted(request):
        if media in JSON_TYPES or media in ("*/*", "application/*", "application/problem+json"):
            return False
        if media in XML_TYPES or media == "text/*":
            return True
    return False


def negotiate(request: Request, xml: bool = False) -> None:
    """406 unless the client accepts JSON or JSON-LD (or, where ``xml``, EPCIS XML) and an
    EPCIS/CBV 2.0 version it may ask for."""
    offered: tuple[str, ...] = (*JSON_TYPES, "*/*", "application/*", "application/problem+json")
    if xml:
        offered += (*XML_TYPES, "text/*")
    if not any(media in offered for _, _, media in _accepted(request)):
        raise TrackingError(
            "not_acceptable",
            "Accept",
            "this resource answers application/json or application/ld+json"
            + (" or application/xml" if xml else ""),
        )
    for name in ("GS1-EPCIS-Version", "GS1-CBV-Version"):
        if not _version_ok(request.headers.get(name)):
            raise TrackingError("not_acceptable", name, f"only {EPCIS_VERSION} is served")
    for low, high in (("GS1-EPCIS-Min", "GS1-EPCIS-Max"), ("GS1-CBV-Min", "GS1-CBV-Max")):
        lo, hi = request.headers.get(low), request.headers.get(high)
        if (lo and _key(lo) > _key(EPCIS_VERSION)) or (hi and _key(hi) < _key(EPCIS_VERSION)):
            raise TrackingError("not_acceptable", low, f"this repository serves {EPCIS_VERSION}")


def _key(version: str) -> tuple[int, ...]:
    try:
        parts = tuple(int(p) for p in version.strip().split("."))
    except ValueError:
        return (0,)
    return parts + (0,) * (3 - len(parts))


def content_type(request: Request) -> str:
    """``json`` or ``xml``, the body's kind; 415 unless it is JSON, JSON-LD or EPCIS XML."""
    kind = request.headers.get("content-type", "application/json").split(";")[0].strip().lower()
    if kind in XML_TYPES:
        return "xml"
    if kind not in JSON_TYPES:
        raise TrackingError(
            "unsupported_media_type",
            "Content-Type",
            "capture takes application/json, application/ld+json or application/xml",
        )
    return "json"


def epcis_response(
    body: dict[str, Any], request: Request, status: int = 200, headers: dict[str, str] | None = None
) -> Response:
    """An EPCISQueryDocument as EPCIS XML when the client prefers it, else as JSON(-LD)."""
    if not wants_xml(request):
        return json_response(body, request, status, headers)
    from corridor.tracking.xml import query_document_to_xml

    media = "text/xml" if _prefers(request, "text/xml") else "application/xml"
    return Response(
        query_document_to_xml(body),
        status_code=status,
        media_type=media,
        headers={**GS1_HEADERS, **(headers or {})},
    )


def _prefers(request: Request, media: str) -> bool:
    best = next((m for _, _, m in _accepted(request) if m in (*XML_TYPES, "text/*")), None)
    return best == media or (best == "text/*" and media == "text/xml")


async def read_body(request: Request, limit_bytes: int) -> bytes:
    """The body, refused with 413 as soon as it passes ``limit_bytes`` (never read in full)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit_bytes:
        raise TrackingError("too_large", "body", f"the body exceeds {limit_bytes} bytes")
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit_bytes:
            raise TrackingError("too_large", "body", f"the body exceeds {limit_bytes} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


def settings_of(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def database_of(request: Request) -> Database:
    db: Database = request.app.state.db
    return db


def caller(
    request: Request, credentials: Annotated[HTTPAuthorizationCredentials | None, Depends(bearer)]
) -> Principal:
    """The caller, read in a session of its own that is closed before the endpoint runs.

    (The shared session dependency stays open for the whole request; a capture that runs for
    seconds must not hold a second connection idle in a transaction meanwhile.)
    """
    if credentials is None:
        raise ApiError(401, "unauthorized", "Authorization", "missing bearer token")
    with database_of(request).session() as s:
        who = principal_for(s, credentials.credentials)
    if who is None:
        raise ApiError(401, "unauthorized", "Authorization", "unknown, revoked or expired token")
    return who


CallerDep = Annotated[Principal, Depends(caller)]
