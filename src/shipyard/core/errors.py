"""One error hierarchy for the whole platform.

Every error maps to exactly one HTTP status and is rendered as
``{"error": {"type": <name>, "message": <text>}}`` by the server; the remote
client turns such a body back into the same class, so SDK callers see the same
exceptions embedded and remote.

    ShipyardError (500)
    ├── InvalidInput (400)
    │   └── ValidationFailed (422)
    ├── Unauthenticated (401)
    ├── PermissionDenied (403)
    │   └── ApprovalRequired (403)
    ├── NotFound (404)
    ├── Conflict (409)
    ├── PayloadTooLarge (413)
    ├── RateLimited (429)
    │   └── BudgetExceeded (429)
    ├── StoreError (503)
    │   └── MigrationError (503)
    ├── RemoteError (502)          raised by the client when a server is unreachable
    └── UpstreamError (502)        a model provider behind the gateway failed
        └── UpstreamTimeout (504)
"""

from __future__ import annotations

from typing import Any


class ShipyardError(Exception):
    """Root of every error Shipyard raises on purpose."""

    status: int = 500

    def __init__(self, message: str, **details: Any) -> None:
        super().__init__(message)
        self.message = message
        self.details = details

    @property
    def type(self) -> str:
        return type(self).__name__

    def to_body(self) -> dict[str, Any]:
        body: dict[str, Any] = {"type": self.type, "message": self.message}
        if self.details:
            body["details"] = self.details
        return {"error": body}


class InvalidInput(ShipyardError):
    """The request is malformed or a value is out of range."""

    status = 400


class ValidationFailed(InvalidInput):
    """The request is well-formed but does not match the expected schema."""

    status = 422


class Unauthenticated(ShipyardError):
    """No API key, or an unknown or revoked one."""

    status = 401


class PermissionDenied(ShipyardError):
    """The caller's role does not allow this action."""

    status = 403


class ApprovalRequired(PermissionDenied):
    """A protected alias can only point at an approved version."""


class NotFound(ShipyardError):
    status = 404


class Conflict(ShipyardError):
    """The write contradicts what is stored (a param set twice, a name taken)."""

    status = 409


class PayloadTooLarge(ShipyardError):
    status = 413


class RateLimited(ShipyardError):
    """Too many requests or tokens for now; ``retry_after_s`` says when to come back."""

    status = 429


class BudgetExceeded(RateLimited):
    """A spending budget is used up until its period ends; retrying sooner will not help."""


class StoreError(ShipyardError):
    """The database or artifact store cannot serve the request."""

    status = 503


class MigrationError(StoreError):
    """The database schema could not be brought up to date."""


class RemoteError(ShipyardError):
    """The server could not be reached or answered with something unexpected."""

    status = 502


class UpstreamError(ShipyardError):
    """A model provider behind the gateway failed or answered with something unusable."""

    status = 502


class UpstreamTimeout(UpstreamError):
    status = 504


def _all_subclasses(cls: type[ShipyardError]) -> list[type[ShipyardError]]:
    out: list[type[ShipyardError]] = [cls]
    for sub in cls.__subclasses__():
        out.extend(_all_subclasses(sub))
    return out


def error_from_body(status: int, body: Any) -> ShipyardError:
    """Rebuild the error a server described in its JSON error body."""
    by_name = {c.__name__: c for c in _all_subclasses(ShipyardError)}
    err = body.get("error") if isinstance(body, dict) else None
    if isinstance(err, dict):
        cls = by_name.get(str(err.get("type")))
        message = str(err.get("message", ""))
        details = err.get("details") or {}
        if not details and "code" in err:  # the OpenAI shape of the gateway's endpoints
            details = {k: err[k] for k in ("code", "param") if err.get(k) is not None}
        if cls is None:
            cls = _class_for_status(status)
        exc = cls(message, **details) if isinstance(details, dict) else cls(message)
        return exc
    return _class_for_status(status)(f"HTTP {status}: {str(body)[:500]}")


def _class_for_status(status: int) -> type[ShipyardError]:
    for cls in (
        ValidationFailed,
        InvalidInput,
        Unauthenticated,
        PermissionDenied,
        NotFound,
        Conflict,
        PayloadTooLarge,
        RateLimited,
    ):
        if cls.status == status:
            return cls
    if 400 <= status < 500:
        return InvalidInput
    if status == 503:
        return StoreError
    if status in (502, 504):
        return RemoteError
    return ShipyardError
