"""Request dependencies: the platform, and the authenticated actor with a role check."""

from __future__ import annotations

from collections.abc import Callable

from fastapi import Request

from shipyard.core.errors import Unauthenticated
from shipyard.core.identity import ANONYMOUS, KEY_PREFIX, Actor, Role
from shipyard.platform import Platform


def platform(request: Request) -> Platform:
    p: Platform = request.app.state.platform
    return p


def presented_key(authorization: str | None, x_api_key: str | None) -> str | None:
    if authorization:
        scheme, _, value = authorization.partition(" ")
        if scheme.lower() != "bearer" or not value.strip():
            raise Unauthenticated("use 'Authorization: Bearer <key>'")
        return value.strip()
    return x_api_key


def actor_for(key: str | None, p: Platform, auth_required: bool) -> Actor:
    """The actor behind a presented key (or none)."""
    if key and not auth_required and not key.startswith(KEY_PREFIX):
        # Without required auth (loopback), a placeholder key ("sk-...", which OpenAI
        # clients insist on sending) is no key at all.
        key = None
    if key:
        return p.admin.authenticate(key)
    if auth_required:
        raise Unauthenticated("an API key is required: send 'Authorization: Bearer <key>'")
    return ANONYMOUS


def current_actor(request: Request) -> Actor:
    cached = getattr(request.state, "actor", None)
    if cached is not None:
        return cached
    key = presented_key(request.headers.get("authorization"), request.headers.get("x-api-key"))
    actor = actor_for(key, platform(request), request.app.state.auth_required)
    request.state.actor = actor
    return actor


def role(required: Role) -> Callable[[Request], Actor]:
    def dependency(request: Request) -> Actor:
        actor = current_actor(request)
        actor.require(required, f"{request.method} {request.url.path}")
        return actor

    dependency.__name__ = f"require_{required.value}"
    return dependency


viewer = role(Role.viewer)
editor = role(Role.editor)
admin = role(Role.admin)
