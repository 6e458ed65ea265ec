"""The one place errors become HTTP responses: ``{"error": {"type", "message"}}``."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException

from shipyard.core.errors import ShipyardError
from shipyard.core.ids import new_id

log = logging.getLogger("shipyard.server")

_HTTP_TYPES = {
    400: "InvalidInput",
    401: "Unauthenticated",
    403: "PermissionDenied",
    404: "NotFound",
    405: "MethodNotAllowed",
    409: "Conflict",
    413: "PayloadTooLarge",
    415: "UnsupportedMediaType",
    422: "ValidationFailed",
    429: "RateLimited",
}


def error_response(status: int, type_: str, message: str, **extra: Any) -> JSONResponse:
    body: dict[str, Any] = {"type": type_, "message": message}
    body.update(extra)
    return JSONResponse({"error": body}, status_code=status)


def _describe_validation(errors_: Sequence[Any]) -> tuple[int, str]:
    parts = []
    status = 422
    for err in list(errors_)[:10]:
        if err.get("type") == "json_invalid":
            status = 400
            ctx = err.get("ctx") or {}
            return 400, f"the request body is not valid JSON: {ctx.get('error', 'parse error')}"
        loc = ".".join(str(x) for x in err.get("loc", ()) if x != "body")
        parts.append(f"{loc or 'body'}: {err.get('msg')}")
    return status, "invalid request: " + "; ".join(parts)


def install(app: FastAPI) -> None:
    @app.exception_handler(ShipyardError)
    async def _shipyard(_req: Request, exc: ShipyardError) -> JSONResponse:
        resp = JSONResponse(exc.to_body(), status_code=exc.status)
        if exc.status == 401:
            resp.headers["WWW-Authenticate"] = "Bearer"
        return resp

    @app.exception_handler(RequestValidationError)
    async def _validation(_req: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = _describe_validation(exc.errors())
        return error_response(status, _HTTP_TYPES[status], message)

    @app.exception_handler(ValidationError)
    async def _pydantic(_req: Request, exc: ValidationError) -> JSONResponse:
        status, message = _describe_validation(exc.errors())
        return error_response(status, _HTTP_TYPES[status], message)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_req: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = _HTTP_TYPES.get(exc.status_code, "HTTPError")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint; see /openapi.json"
        return error_response(exc.status_code, type_, message)

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        incident = new_id()
        log.exception("unexpected error %s on %s %s", incident, req.method, req.url.path)
        return error_response(
            500, "InternalError", f"internal error; the server log has incident {incident}"
        )
