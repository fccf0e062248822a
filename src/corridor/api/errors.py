"""Every error leaves the API as JSON: ``{"error": {"code", "field", "reason"}}`` with a 4xx status.

There is one error type, :class:`corridor.errors.CorridorError`, and one handler. Exceptions that
are not (yet) a CorridorError, from the domains or from FastAPI, pydantic and SQLAlchemy, are
translated by the one table ``TRANSLATE``; the handler looks the exception's classes up in it, most
specific first. Anything else is a bug: it is logged and answered 500 (see ``internal_error``).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from corridor.api import language
from corridor.customs.lifecycle import TransitionError
from corridor.disruptions import DisruptionError
from corridor.energy.errors import EnergyError
from corridor.errors import STATUS, CorridorError
from corridor.jobs import JobError
from corridor.routing import NoRouteError, RoutingError
from corridor.simulation.errors import ScenarioError
from corridor.store.customs import CustomsError
from corridor.store.shipments import ShipmentError

log = logging.getLogger("corridor.api")


class ApiError(CorridorError):
    """A CorridorError raised by the API layer itself, which states its status explicitly.

    The status must be the one ``STATUS`` gives the code; it is kept as an argument because it
    makes the API code read as the HTTP it answers.
    """

    def __init__(self, status: int, code: str, field: str | None, reason: str) -> None:
        super().__init__(code, field, reason)
        if self.status != status:
            raise AssertionError(f"code {code!r} answers {self.status}, not {status}")


def body(code: str, field: str | None, reason: str) -> dict[str, dict[str, Any]]:
    return {"error": {"code": code, "field": field, "reason": reason}}


def worded(exc: CorridorError, lang: str) -> str:
    """The reason of ``exc`` in ``lang`` where a catalogue has it, else as raised (English)."""
    if exc.validation is not None:
        kind, params = exc.validation
        text = language.validation(kind, params, lang)
        if text is not None:
            return text
    return language.reason(exc.reason, lang)


def response(exc: CorridorError, accept_language: str | None = None) -> JSONResponse:
    """The JSON answer to ``exc``, with the headers its status calls for.

    The reason follows ``accept_language`` where a translation exists
    (``Content-Language`` says which language the texts are in).
    """
    lang = language.negotiate(accept_language)
    headers: dict[str, str] = {"Content-Language": lang, "Vary": "Accept-Language"}
    if exc.code == "unauthorized":
        headers["WWW-Authenticate"] = "Bearer"
    if exc.retry_after_s is not None:
        headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after_s)))
    payload: dict[str, dict[str, Any]] = dict(body(exc.code, exc.field, worded(exc, lang)))
    payload["error"].update(
        getattr(exc, "detail", None) or {}
    )  # e.g. a full sailing's next_sailings
    return JSONResponse(payload, exc.status, headers)


def internal_error(accept_language: str | None = None) -> JSONResponse:
    lang = language.negotiate(accept_language)
    payload = body("internal", None, language.reason("internal error; it has been logged", lang))
    return JSONResponse(payload, 500, {"Content-Language": lang, "Vary": "Accept-Language"})


def _first(errors: Any) -> dict[str, Any]:
    listed = list(errors)
    return dict(listed[0]) if listed else {"loc": (), "msg": "invalid request"}


def _request_validation(exc: RequestValidationError) -> CorridorError:
    first = _first(exc.errors())
    loc = [str(p) for p in first.get("loc", ()) if p != "body"]
    reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
    if first.get("type") == "json_invalid":
        error = CorridorError("malformed_json", "body", reason)
    else:
        error = CorridorError("invalid", ".".join(loc) or None, reason)
    error.validation = _kind(first)
    return error


def _kind(first: dict[str, Any]) -> tuple[str, dict[str, object]] | None:
    """A validator's error type and parameters, when it is one of the generic messages."""
    kind = str(first.get("type", ""))
    if kind in ("value_error", "assertion_error", ""):
        return None  # our own reasons: translated from the reason templates
    return kind, {k: v for k, v in dict(first.get("ctx") or {}).items() if v is not None}


def _pydantic(exc: ValidationError) -> CorridorError:
    first = _first(exc.errors())
    loc = ".".join(str(p) for p in first.get("loc", ())) or None
    error = CorridorError("invalid", loc, str(first.get("msg", "")).removeprefix("Value error, "))
    error.validation = _kind(dict(first))
    return error


def _http(exc: StarletteHTTPException) -> CorridorError:
    code = {
        400: "malformed_json",
        401: "unauthorized",
        403: "forbidden",
        404: "not_found",
        405: "method_not_allowed",
        409: "conflict",
        413: "too_large",
        415: "unsupported_media_type",
        429: "rate_limited",
        503: "unavailable",
    }.get(exc.status_code, "invalid")
    return CorridorError(code, None, str(exc.detail))


def _transition(exc: TransitionError) -> CorridorError:
    return CorridorError(exc.code if exc.code in STATUS else "conflict", "action", str(exc))


def _coded(exc: ShipmentError | CustomsError | JobError | DisruptionError) -> CorridorError:
    return CorridorError(exc.code, exc.field, exc.reason)


def _scenario(exc: ScenarioError) -> CorridorError:
    # A scenario file's error names the file and line ahead of the reason.
    reason = str(exc).split(": field ", 1)[0] + ": " + exc.reason if exc.file else exc.reason
    return CorridorError(exc.code, exc.field, reason)


#: How each exception that is not a CorridorError becomes one. Domain errors that already carry
#: (code, field, reason) should rather subclass CorridorError and drop out of this table.
TRANSLATE: dict[type[Exception], Callable[[Any], CorridorError]] = {
    CorridorError: lambda exc: exc,
    RequestValidationError: _request_validation,
    ValidationError: _pydantic,
    StarletteHTTPException: _http,
    NoRouteError: lambda exc: CorridorError("no_route", exc.field, exc.reason),
    RoutingError: lambda exc: CorridorError("invalid", exc.field, exc.reason),
    TransitionError: _transition,
    ShipmentError: _coded,
    CustomsError: _coded,
    JobError: _coded,
    DisruptionError: _coded,
    ScenarioError: _scenario,
    EnergyError: lambda exc: CorridorError(
        exc.code if exc.code in STATUS else "invalid", exc.field, exc.reason.splitlines()[0]
    ),
    DataError: lambda _: CorridorError(
        "invalid", None, "a value the database cannot store (for example a NUL character)"
    ),
}


def translate(exc: BaseException) -> CorridorError | None:
    """The CorridorError ``exc`` stands for, or None when it is a bug."""
    for cls in type(exc).__mro__:
        if cls in TRANSLATE:
            return TRANSLATE[cls](exc)
    return None


def install(app: FastAPI) -> None:
    """Register the one handler for every exception class the table knows."""

    async def handle(request: Request, exc: Exception) -> JSONResponse:
        error = translate(exc)
        accept = request.headers.get("accept-language")
        if error is None:
            log.exception("unhandled error", exc_info=exc)
            return internal_error(accept)
        return response(error, accept)

    for cls in TRANSLATE:
        app.add_exception_handler(cls, handle)
    app.add_exception_handler(Exception, handle)
