"""Every error leaves the API as JSON: ``{"error": {"code", "field", "reason"}}`` with a 4xx status."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.exc import DataError
from starlette.exceptions import HTTPException as StarletteHTTPException

from corridor.customs.lifecycle import TransitionError
from corridor.disruptions import DisruptionError
from corridor.jobs import JobError
from corridor.routing import NoRouteError, RoutingError
from corridor.simulation.errors import ScenarioError
from corridor.store.accounts import AccountError
from corridor.store.customs import CustomsError
from corridor.store.shipments import ShipmentError

log = logging.getLogger("corridor.api")


class ApiError(Exception):
    def __init__(self, status: int, code: str, field: str | None, reason: str) -> None:
        self.status, self.code, self.field, self.reason = status, code, field, reason
        super().__init__(reason)


def body(code: str, field: str | None, reason: str) -> dict[str, dict[str, str | None]]:
    return {"error": {"code": code, "field": field, "reason": reason}}


def _json(status: int, code: str, field: str | None, reason: str) -> JSONResponse:
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else None
    return JSONResponse(body(code, field, reason), status_code=status, headers=headers)


STATUS = {"not_found": 404, "forbidden": 403, "conflict": 409}


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api(_: Request, exc: ApiError) -> JSONResponse:
        return _json(exc.status, exc.code, exc.field, exc.reason)

    @app.exception_handler(RequestValidationError)
    async def _validation(_: Request, exc: RequestValidationError) -> JSONResponse:
        first = exc.errors()[0] if exc.errors() else {"loc": (), "msg": "invalid request"}
        loc = [str(p) for p in first.get("loc", ()) if p not in ("body",)]
        reason = str(first.get("msg", "invalid")).removeprefix("Value error, ")
        if first.get("type") == "json_invalid":
            return _json(400, "malformed_json", "body", reason)
        return _json(422, "invalid", ".".join(loc) or None, reason)

    @app.exception_handler(NoRouteError)
    async def _no_route(_: Request, exc: NoRouteError) -> JSONResponse:
        return _json(422, "no_route", exc.field, exc.reason)

    @app.exception_handler(RoutingError)
    async def _routing(_: Request, exc: RoutingError) -> JSONResponse:
        return _json(422, "invalid", exc.field, exc.reason)

    @app.exception_handler(AccountError)
    async def _account(_: Request, exc: AccountError) -> JSONResponse:
        return _json(422, "invalid", exc.field, exc.reason)

    @app.exception_handler(ShipmentError)
    async def _shipment(_: Request, exc: ShipmentError) -> JSONResponse:
        return _json(STATUS.get(exc.code, 422), exc.code, exc.field, exc.reason)

    @app.exception_handler(ScenarioError)
    async def _scenario(_: Request, exc: ScenarioError) -> JSONResponse:
        status = 404 if exc.code == "not_found" else 422
        reason = str(exc).split(": field ", 1)[0] + ": " + exc.reason if exc.file else exc.reason
        return _json(status, exc.code, exc.field, reason)

    @app.exception_handler(CustomsError)
    async def _customs(_: Request, exc: CustomsError) -> JSONResponse:
        return _json(STATUS.get(exc.code, 422), exc.code, exc.field, exc.reason)

    @app.exception_handler(TransitionError)
    async def _transition(_: Request, exc: TransitionError) -> JSONResponse:
        return _json(STATUS.get(exc.code, 409), exc.code, "action", str(exc))

    @app.exception_handler(DisruptionError)
    async def _disruption(_: Request, exc: DisruptionError) -> JSONResponse:
        return _json(STATUS.get(exc.code, 422), exc.code, exc.field, exc.reason)

    @app.exception_handler(JobError)
    async def _job(_: Request, exc: JobError) -> JSONResponse:
        return _json(422, exc.code, exc.field, exc.reason)

    @app.exception_handler(ValidationError)
    async def _pydantic(_: Request, exc: ValidationError) -> JSONResponse:
        first = exc.errors()[0]
        loc = ".".join(str(p) for p in first["loc"]) or None
        return _json(422, "invalid", loc, first["msg"].removeprefix("Value error, "))

    @app.exception_handler(DataError)
    async def _data(_: Request, exc: DataError) -> JSONResponse:
        return _json(
            422, "invalid", None, "a value the database cannot store (for example a NUL character)"
        )

    @app.exception_handler(StarletteHTTPException)
    async def _http(_: Request, exc: StarletteHTTPException) -> JSONResponse:
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code, "http_error")
        return _json(exc.status_code, code, None, str(exc.detail))

    @app.exception_handler(Exception)
    async def _unexpected(_: Request, exc: Exception) -> JSONResponse:
        log.exception("unhandled error", exc_info=exc)
        return _json(500, "internal", None, "internal error; it has been logged")
