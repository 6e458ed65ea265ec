"""The one place errors become HTTP responses: ``{"error": {"type", "message"}}``.

Under the OpenAI-compatible gateway paths (``/v1/chat/completions``, ``/v1/completions``,
``/v1/embeddings``, ``/v1/models``) the body takes OpenAI's shape instead —
``{"error": {"message", "type", "param", "code"}}`` — so OpenAI clients read it natively."""

from __future__ import annotations

import logging
import math
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


OPENAI_PATHS = ("/v1/chat/", "/v1/completions", "/v1/embeddings", "/v1/models")
_OPENAI_TYPES = {
    400: "invalid_request_error",
    401: "authentication_error",
    403: "permission_error",
    404: "invalid_request_error",
    405: "invalid_request_error",
    409: "conflict_error",
    413: "invalid_request_error",
    415: "invalid_request_error",
    422: "invalid_request_error",
    429: "rate_limit_error",
    502: "upstream_error",
    503: "server_error",
    504: "upstream_error",
}


def is_openai_path(path: str) -> bool:
    return path.startswith(OPENAI_PATHS)


MLFLOW_PATHS = ("/api/2.0/mlflow", "/api/3.0/mlflow", "/ajax-api/2.0/mlflow")
_MLFLOW_CODES = {
    400: "INVALID_PARAMETER_VALUE",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "RESOURCE_DOES_NOT_EXIST",
    405: "ENDPOINT_NOT_FOUND",
    409: "RESOURCE_ALREADY_EXISTS",
    413: "INVALID_PARAMETER_VALUE",
    422: "INVALID_PARAMETER_VALUE",
    429: "REQUEST_LIMIT_EXCEEDED",
    503: "TEMPORARILY_UNAVAILABLE",
}


def error_body(
    path: str, status: int, type_: str, message: str, details: dict[str, Any] | None = None
) -> dict[str, Any]:
    """The JSON error body for ``path``: OpenAI's shape on the gateway, Shipyard's elsewhere."""
    details = details or {}
    if path.startswith(MLFLOW_PATHS):  # MLflow's shape: its client reads error_code
        code = details.get("mlflow_code") or _MLFLOW_CODES.get(status, "INTERNAL_ERROR")
        return {"error_code": code, "message": message}
    if is_openai_path(path):
        kind = _OPENAI_TYPES.get(status, "server_error")
        if type_ == "BudgetExceeded":
            kind = "insufficient_quota"
        code = details.get("code") or type_
        return {"error": {"message": message, "type": kind, "param": details.get("param"),
                          "code": code}}  # fmt: skip
    body: dict[str, Any] = {"type": type_, "message": message}
    if details:
        body["details"] = details
    return {"error": body}


def error_response(
    status: int, type_: str, message: str, *, path: str = "", **extra: Any
) -> JSONResponse:
    return JSONResponse(error_body(path, status, type_, message, extra), status_code=status)


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
    async def _shipyard(req: Request, exc: ShipyardError) -> JSONResponse:
        return shipyard_error_response(req.url.path, exc)

    @app.exception_handler(RequestValidationError)
    async def _validation(req: Request, exc: RequestValidationError) -> JSONResponse:
        status, message = _describe_validation(exc.errors())
        return error_response(status, _HTTP_TYPES[status], message, path=req.url.path)

    @app.exception_handler(ValidationError)
    async def _pydantic(req: Request, exc: ValidationError) -> JSONResponse:
        status, message = _describe_validation(exc.errors())
        return error_response(status, _HTTP_TYPES[status], message, path=req.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def _http(req: Request, exc: StarletteHTTPException) -> JSONResponse:
        type_ = _HTTP_TYPES.get(exc.status_code, "HTTPError")
        message = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
        extra = {}
        if exc.status_code == 404 and message == "Not Found":
            message = "no such endpoint; see /openapi.json"
            extra["mlflow_code"] = "ENDPOINT_NOT_FOUND"
        if req.url.path.startswith(MLFLOW_PATHS) and exc.status_code == 405:
            extra["mlflow_code"] = "ENDPOINT_NOT_FOUND"
        return error_response(exc.status_code, type_, message, path=req.url.path, **extra)

    @app.exception_handler(Exception)
    async def _unexpected(req: Request, exc: Exception) -> JSONResponse:
        incident = new_id()
        log.exception("unexpected error %s on %s %s", incident, req.method, req.url.path)
        return error_response(
            500,
            "InternalError",
            f"internal error; the server log has incident {incident}",
            path=req.url.path,
        )


def error_headers(exc: ShipyardError) -> dict[str, str]:
    headers: dict[str, str] = {}
    if exc.status == 401:
        headers["WWW-Authenticate"] = "Bearer"
    retry = exc.details.get("retry_after_s")
    if isinstance(retry, int | float):
        headers["Retry-After"] = str(max(1, math.ceil(retry)))
    if exc.type == "BudgetExceeded":
        headers["x-should-retry"] = "false"  # retrying before the period ends is futile
    return headers


def shipyard_error_response(path: str, exc: ShipyardError) -> JSONResponse:
    return JSONResponse(
        error_body(path, exc.status, exc.type, exc.message, exc.details),
        status_code=exc.status,
        headers=error_headers(exc),
    )
