"""Who a gateway call is for (the caller, from the key and the X-Shipyard-* headers) and the
trace it joins."""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import orjson

from shipyard.core.errors import InvalidInput, PermissionDenied
from shipyard.core.identity import Actor


def _hex(nbytes: int) -> str:
    return secrets.token_hex(nbytes)


def parse_traceparent(value: str | None) -> tuple[str, str] | None:
    """(trace id, parent span id) from a W3C ``traceparent`` header, if it is valid."""
    if not value:
        return None
    parts = value.strip().split("-")
    if len(parts) < 4 or len(parts[1]) != 32 or len(parts[2]) != 16:
        return None
    trace_id, span_id = parts[1].lower(), parts[2].lower()
    try:
        int(trace_id, 16), int(span_id, 16)
    except ValueError:
        return None
    if trace_id == "0" * 32 or span_id == "0" * 16:
        return None
    return trace_id, span_id


@dataclass(slots=True)
class Caller:
    """Who is calling, for whom, and where the call's spans go."""

    key_id: str | None
    actor_name: str
    tenant: str | None
    feature: str | None
    user: str | None
    session: str | None
    project: str
    bound_tenant: bool = False  # the key belongs to a tenant: requests cannot name another
    trace_id: str = field(default_factory=lambda: _hex(16))
    parent_span_id: str | None = None
    tags: list[str] = field(default_factory=list)
    prompt: tuple[str, int] | None = None  # the registry prompt version the call renders

    def attribute(self, user: str | None, metadata: dict[str, str] | None) -> None:
        """Fill what the headers left open from the request's ``user`` and ``metadata``."""
        meta = metadata or {}
        tenant = meta.get("tenant")
        if tenant and self.tenant and tenant != self.tenant and self.bound_tenant:
            raise PermissionDenied(
                f"this key belongs to tenant {self.tenant!r} and cannot act for {tenant!r}"
            )
        self.tenant = self.tenant or _cap(tenant)
        self.feature = self.feature or _cap(meta.get("feature"))
        self.user = self.user or _cap(user) or _cap(meta.get("user"))
        self.session = self.session or _cap(meta.get("session"))

    def context_attrs(self) -> dict[str, Any]:
        attrs: dict[str, Any] = {}
        if self.tenant:
            attrs["shipyard.tenant"] = self.tenant
        if self.feature:
            attrs["shipyard.feature"] = self.feature
        if self.user:
            attrs["shipyard.user"] = self.user
        if self.session:
            attrs["shipyard.session"] = self.session
        if self.key_id:
            attrs["shipyard.gateway.key_id"] = self.key_id
        if self.tags:
            attrs["shipyard.tags"] = self.tags
        if self.prompt is not None:
            attrs["shipyard.prompt.name"], attrs["shipyard.prompt.version"] = self.prompt
        return attrs


HEADER_MAX = 200
# call context by name → the header that carries it (lower case, as ASGI gives them)
CONTEXT_HEADERS = {
    "tenant": "x-shipyard-tenant",
    "feature": "x-shipyard-feature",
    "user": "x-shipyard-user",
    "session": "x-shipyard-session",
    "project": "x-shipyard-project",
    "prompt": "x-shipyard-prompt",
    "traceparent": "traceparent",
}


def context_headers(context: Mapping[str, str | None]) -> dict[str, str]:
    """SDK call context (``tenant=...``, ``prompt=...``) → the headers that carry it."""
    unknown = set(context) - set(CONTEXT_HEADERS)
    if unknown:
        raise InvalidInput(
            f"unknown call context: {', '.join(sorted(unknown))} "
            f"(known: {', '.join(CONTEXT_HEADERS)})"
        )
    return {CONTEXT_HEADERS[k]: str(v) for k, v in context.items() if v}


def _header(headers: Mapping[str, str], name: str) -> str | None:
    value = headers.get(name)
    if value is None or not value.strip():
        return None
    if len(value) > HEADER_MAX:
        raise InvalidInput(f"{name} is longer than {HEADER_MAX} characters", param=name)
    return value.strip()


def caller_from(headers: Mapping[str, str], actor: Actor, default_project: str) -> Caller:
    """Who calls (the key), for whom (X-Shipyard-Tenant, -Feature, -User, -Session) and where
    the call's spans go (``traceparent`` joins the caller's trace; X-Shipyard-Project).
    ``headers`` has lower-case names."""
    tenant = _header(headers, "x-shipyard-tenant")
    if actor.tenant is not None:
        if tenant is not None and tenant != actor.tenant:
            raise PermissionDenied(
                f"this key belongs to tenant {actor.tenant!r} and cannot act for {tenant!r}"
            )
        tenant = actor.tenant
    caller = Caller(
        key_id=actor.key_id,
        actor_name=actor.name,
        tenant=tenant,
        feature=_header(headers, "x-shipyard-feature"),
        user=_header(headers, "x-shipyard-user"),
        session=_header(headers, "x-shipyard-session"),
        project=_header(headers, "x-shipyard-project") or default_project,
        bound_tenant=actor.tenant is not None,
    )
    prompt = _header(headers, "x-shipyard-prompt")
    if prompt is not None:
        caller.prompt = parse_prompt_ref(prompt)
    parent = parse_traceparent(headers.get("traceparent"))
    if parent is not None:
        caller.trace_id, caller.parent_span_id = parent
    return caller


def parse_prompt_ref(value: str) -> tuple[str, int]:
    """``name/3`` (the X-Shipyard-Prompt header) → (name, version)."""
    name, _, version = value.rpartition("/")
    if not name or not version.isdigit() or not 1 <= int(version) < 2**31:
        raise InvalidInput(
            f"x-shipyard-prompt must be NAME/VERSION, not {value!r}", param="x-shipyard-prompt"
        )
    return name, int(version)


def _cap(value: str | None) -> str | None:
    if value is None or not str(value).strip():
        return None
    return str(value).strip()[:200]


def jsonable(value: Any) -> str:
    return orjson.dumps(value, default=str).decode()
