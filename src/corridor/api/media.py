"""OpenAPI documentation of answers that are not JSON: feeds, alerts, event streams, images.

FastAPI derives a response schema from a model only for JSON; an operation that answers Atom, CAP,
SSE or an image documents its media type and a schema here instead, so that the OpenAPI document
types every success answer (tests/api/test_openapi_typed.py checks it).
"""

from __future__ import annotations

from typing import Any

ATOM = "application/atom+xml"
CAP = "application/cap+xml"
EVENT_STREAM = "text/event-stream"
SVG = "image/svg+xml"
PNG = "image/png"

_TEXT: dict[str, str] = {
    ATOM: "An Atom 1.0 feed (RFC 4287), UTF-8 XML whose root is `feed`.",
    CAP: "An OASIS Common Alerting Protocol 1.2 `alert`, UTF-8 XML.",
    EVENT_STREAM: "Server-sent events (HTML Living Standard): `id`, `event` and JSON `data` lines.",
    SVG: "An SVG 1.1 image, UTF-8 XML.",
}


def documented(media_type: str, description: str, status: int = 200) -> dict[int | str, Any]:
    """``responses=`` for an operation whose success answer is ``media_type``, not JSON."""
    if media_type in _TEXT:
        schema = {
            "type": "string",
            "contentMediaType": media_type,
            "description": _TEXT[media_type],
        }
    else:  # binary
        schema = {"type": "string", "format": "binary", "contentMediaType": media_type}
    return {status: {"description": description, "content": {media_type: {"schema": schema}}}}
