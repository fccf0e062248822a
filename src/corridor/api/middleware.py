"""The edge: what every request passes before any endpoint runs, and every response after.

A pure ASGI middleware (no BaseHTTPMiddleware, which would buffer responses and hide the
``receive`` channel) that

- refuses a body larger than ``Settings.max_body_bytes`` with 413: at once from its
  Content-Length, otherwise as soon as the bytes received pass the limit, so a 50 MB upload
  costs the server at most the limit in memory and never reaches JSON parsing or a password hash;
- parses JSON bodies once, strictly, and refuses what no endpoint should ever see: nesting deeper
  than ``Settings.max_json_depth`` (400), NaN, Infinity and numbers that overflow to infinity
  such as 1e309, lone surrogates, and date-times outside the accepted years or whose UTC
  conversion overflows (422, naming the field);
- applies the same number, text and date rules to query parameters;
- adds the security headers to every response, errors included;
- answers 500 itself, logged, when an endpoint fails unexpectedly, so that even that answer
  carries the headers (Starlette's own last-resort handler sits outside all middleware).

Rules live here once, instead of in each pydantic model, so that a new endpoint is protected
without anyone remembering to.
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Awaitable, Callable, MutableMapping
from datetime import UTC, datetime
from typing import Any
from urllib.parse import parse_qsl

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from corridor.api.errors import internal_error, log, response
from corridor.errors import CorridorError
from corridor.settings import Settings

_SURROGATE = re.compile("[\ud800-\udfff]")
_DATE = re.compile(r"^[+-]?\d{4,}-\d{2}-\d{2}(?:[T ]\d{2}:\d{2}.*)?$")
_BODY_METHODS = {"POST", "PUT", "PATCH", "DELETE"}

#: Content-Security-Policy of the dashboard: everything from this origin only. Styles may be
#: inline because Leaflet positions the map and the legend colours its swatches with style
#: attributes; scripts may not.
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data: blob:; connect-src 'self'; font-src 'self'; object-src 'none'; "
    "base-uri 'self'; form-action 'self'; frame-ancestors 'none'"
)
#: The API docs pages (Swagger UI and ReDoc, served from the dashboard's vendor/ folder) start
#: with an inline script, and ReDoc runs its search in a worker made from a blob; only those pages
#: are allowed to.
DOCS_CSP = (
    "default-src 'self'; script-src 'self' 'unsafe-inline'; style-src 'self' 'unsafe-inline'; "
    "img-src 'self' data:; worker-src 'self' blob:; connect-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'self'; frame-ancestors 'none'"
)
DOCS_PATHS = ("/docs", "/redoc")


def security_headers(settings: Settings, path: str) -> list[tuple[bytes, bytes]]:
    """The headers every response carries (HSTS only when the service is reached over TLS)."""
    headers = [
        (b"content-security-policy", (DOCS_CSP if path.startswith(DOCS_PATHS) else CSP).encode()),
        (b"x-frame-options", b"DENY"),
        (b"x-content-type-options", b"nosniff"),
        (b"referrer-policy", b"no-referrer"),
        (b"cross-origin-opener-policy", b"same-origin"),
        (b"permissions-policy", b"camera=(), microphone=(), geolocation=(), payment=()"),
    ]
    if settings.tls:
        headers.append((b"strict-transport-security", b"max-age=31536000; includeSubDomains"))
    if path.startswith("/api/"):
        headers.append((b"cache-control", b"no-store"))
    return headers


class _TooLarge(Exception):
    pass


class EdgeMiddleware:
    """See the module docstring; ``settings`` gives the limits."""

    def __init__(self, app: ASGIApp, settings: Settings) -> None:
        self.app = app
        self.settings = settings

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        extra = security_headers(self.settings, scope.get("path", ""))
        started = False

        async def send_with_headers(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                present = {name.lower() for name, _ in message.get("headers", [])}
                message["headers"] = [
                    *message.get("headers", []),
                    *((k, v) for k, v in extra if k not in present),
                ]
            await send(message)

        async def answer(error: CorridorError) -> None:
            accept = next(
                (
                    v.decode("latin-1")
                    for k, v in scope.get("headers", ())
                    if k == b"accept-language"
                ),
                None,
            )
            await response(error, accept)(scope, receive, send_with_headers)

        try:
            refused = check_query(scope.get("query_string", b""), self.settings)
            if refused is not None:
                await answer(refused)
                return
            inner_receive = receive
            if scope.get("method") in _BODY_METHODS and scope.get("path") not in STREAMED:
                refused = check_length(scope, self.settings.max_body_bytes)
                if refused is not None:
                    await answer(refused)
                    return
                try:
                    body = await read_body(receive, self.settings.max_body_bytes)
                except _TooLarge:
                    await answer(too_large(self.settings.max_body_bytes))
                    return
                if body and _is_json(scope):
                    refused = check_json(body, self.settings)
                    if refused is not None:
                        await answer(refused)
                        return
                inner_receive = replay(body, receive)
            await self.app(scope, inner_receive, send_with_headers)
        except Exception:
            if started:
                raise
            log.exception("unhandled error at %s %s", scope.get("method"), scope.get("path"))
            await internal_error()(scope, receive, send_with_headers)


#: EPCIS capture takes documents of many megabytes: it applies its own limits (size while the
#: body streams in, depth, non-finite numbers, surrogates) off the event loop, in the threadpool or
#: a worker process, so the edge passes its bodies through unread.
STREAMED = frozenset({"/api/v1/epcis/capture", "/api/v1/epcis/events"})


def too_large(limit: int) -> CorridorError:
    return CorridorError("too_large", "body", f"the body is larger than {limit} bytes")


def check_length(scope: Scope, limit: int) -> CorridorError | None:
    """413 from the Content-Length header alone, before a byte of the body is read."""
    for name, value in scope.get("headers", []):
        if name == b"content-length":
            try:
                length = int(value)
            except ValueError:
                return CorridorError("invalid", "Content-Length", "not a number")
            if length > limit:
                return too_large(limit)
    return None


async def read_body(receive: Receive, limit: int) -> bytes:
    """The whole body, or _TooLarge as soon as more than ``limit`` bytes have arrived."""
    chunks: list[bytes] = []
    size = 0
    while True:
        message = await receive()
        if message["type"] != "http.request":
            break  # the client went away; the endpoint will see an empty body
        chunk = message.get("body", b"")
        size += len(chunk)
        if size > limit:
            raise _TooLarge
        chunks.append(chunk)
        if not message.get("more_body", False):
            break
    return b"".join(chunks)


def replay(body: bytes, receive: Receive) -> Callable[[], Awaitable[MutableMapping[str, Any]]]:
    """A ``receive`` that gives the body read already, then whatever the client sends next."""
    sent = False

    async def again() -> MutableMapping[str, Any]:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return again


def _is_json(scope: Scope) -> bool:
    # FastAPI parses a body without Content-Type as JSON too, so it is checked the same way.
    for name, value in scope.get("headers", []):
        if name == b"content-type":
            return b"json" in value.lower()
    return True


class _NonFinite:
    """Stands in for NaN, Infinity or -Infinity while parsing, so the walk can name the field."""

    def __init__(self, name: str) -> None:
        self.name = name


def check_json(body: bytes, settings: Settings) -> CorridorError | None:
    """The reason to refuse a JSON body, or None. A body that is not JSON at all is left to the
    endpoint, which answers it in its own format (400)."""
    try:
        document = json.loads(body, parse_constant=_NonFinite)
    except RecursionError:
        return _too_deep(settings.max_json_depth)
    except json.JSONDecodeError:
        return None
    except ValueError as exc:  # e.g. an integer of more digits than Python converts
        return CorridorError("invalid", "body", str(exc)[:200])
    return check_values(document, settings)


def _too_deep(limit: int) -> CorridorError:
    return CorridorError("too_deep", "body", f"JSON nested deeper than {limit} levels")


def check_values(document: Any, settings: Settings) -> CorridorError | None:
    """Walk ``document`` (without recursion) and name the first value that is refused."""
    stack: list[tuple[Any, str, int]] = [(document, "", 1)]
    while stack:
        value, path, depth = stack.pop()
        if isinstance(value, dict):
            if depth > settings.max_json_depth:
                return _too_deep(settings.max_json_depth)
            for key, item in value.items():
                where = f"{path}.{key}" if path else str(key)
                if _SURROGATE.search(key):
                    return _surrogate(path or "body")
                stack.append((item, where, depth + 1))
        elif isinstance(value, list):
            if depth > settings.max_json_depth:
                return _too_deep(settings.max_json_depth)
            stack.extend((item, f"{path}[{i}]", depth + 1) for i, item in enumerate(value))
        elif isinstance(value, _NonFinite):
            return CorridorError("invalid", path or "body", f"{value.name} is not a JSON number")
        elif isinstance(value, float):
            if not math.isfinite(value):
                return CorridorError("invalid", path or "body", "a number too large to represent")
        elif isinstance(value, str):
            refused = check_text(value, path or "body", settings)
            if refused is not None:
                return refused
    return None


def _surrogate(field: str) -> CorridorError:
    return CorridorError("invalid", field, "text holds a lone surrogate (not valid Unicode)")


def check_text(value: str, field: str, settings: Settings) -> CorridorError | None:
    """Refuse lone surrogates and date-times that cannot be (or should not be) stored."""
    if _SURROGATE.search(value):
        return _surrogate(field)
    if len(value) <= 40 and _DATE.match(value):
        return check_date(value, field, settings)
    return None


def check_date(value: str, field: str, settings: Settings) -> CorridorError | None:
    """A date-time must convert to UTC and fall in the accepted years.

    A value Python cannot parse at all is left to the endpoint's own validation (it names the
    format expected); this only refuses values that parse but lie outside what is stored.
    """
    try:
        moment = datetime.fromisoformat(value.replace("z", "Z"))
    except ValueError:
        return None
    low, high = settings.dates_from_year, settings.dates_until_year
    try:
        utc = moment.astimezone(UTC) if moment.tzinfo is not None else moment
    except OverflowError:
        utc = None
    if utc is None or not low <= utc.year <= high:
        return CorridorError("invalid", field, f"a date between the years {low} and {high}")
    return None


def check_query(raw: bytes, settings: Settings) -> CorridorError | None:
    """The same rules for query parameters, plus a bound on how many there are."""
    if not raw:
        return None
    pairs = parse_qsl(raw.decode("latin-1"), keep_blank_values=True, encoding="utf-8")
    if len(pairs) > settings.max_query_params:
        return CorridorError(
            "invalid", "query", f"at most {settings.max_query_params} query parameters"
        )
    for name, value in pairs:
        refused = check_text(value, name, settings)
        if refused is not None:
            return refused
        if value.strip().lower().lstrip("+-") in {"nan", "inf", "infinity"}:
            return CorridorError("invalid", name, "not a finite number")
        try:
            number = float(value)
        except ValueError:
            continue
        if not math.isfinite(number):
            return CorridorError("invalid", name, "a number too large to represent")
    return None
