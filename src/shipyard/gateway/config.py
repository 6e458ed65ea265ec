"""Gateway configuration: upstreams (keys encrypted at rest), limits and budgets, and routes.

This module is the only writer of ``gateway_upstreams`` and ``gateway_limits``; routes are
registry versions written through the registry service. ``snapshot()`` reads all of it at
once for the serving path, which keeps it in memory and re-reads it every few seconds."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import orjson
from cryptography.fernet import Fernet, InvalidToken
from pydantic import BaseModel, ConfigDict, Field
from sqlalchemy import select

from shipyard.core import audit
from shipyard.core.errors import InvalidInput, NotFound, ShipyardError, StoreError
from shipyard.core.identity import Actor, Role
from shipyard.core.ids import now_ms
from shipyard.gateway.hooks import build_hook
from shipyard.gateway.models import LimitRow, UpstreamRow
from shipyard.gateway.providers.base import parse_options, provider_class
from shipyard.gateway.routes import (
    BUILTIN_UPSTREAMS,
    RouteConfig,
    RouteInfo,
    Upstream,
    UpstreamIn,
    parse_route,
)
from shipyard.registry.schemas import DEFAULT_ALIAS, CreateVersion, Kind, check_name
from shipyard.registry.service import RegistryService
from shipyard.store.db import Database

Scope = Literal["key", "tenant"]
log = logging.getLogger("shipyard.gateway")


class Secrets:
    """Encrypts upstream API keys with the deployment's secret key."""

    def __init__(self, key: str) -> None:
        try:
            self._fernet = Fernet(key.encode())
        except ValueError:
            raise InvalidInput(
                "SHIPYARD_GATEWAY_SECRET_KEY must be 32 url-safe base64-encoded bytes"
            ) from None

    def encrypt(self, text: str) -> str:
        return self._fernet.encrypt(text.encode()).decode()

    def decrypt(self, token: str) -> str:
        try:
            return self._fernet.decrypt(token.encode()).decode()
        except InvalidToken:
            raise StoreError(
                "an upstream API key cannot be decrypted: the gateway secret key is not the "
                "one it was stored with (set SHIPYARD_GATEWAY_SECRET_KEY to that key)"
            ) from None


class LimitSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")
    rpm: int | None = Field(default=None, ge=0, description="requests per minute")
    tpm: int | None = Field(default=None, ge=0, description="tokens per minute")
    daily_usd: float | None = Field(default=None, ge=0, description="USD per UTC day")
    monthly_usd: float | None = Field(default=None, ge=0, description="USD per UTC month")


class Limit(LimitSpec):
    scope: Scope
    subject: str
    updated_at: int
    updated_by: str


@dataclass(slots=True)
class UpstreamConf:
    name: str
    provider: str
    options: dict[str, Any]
    api_key: str | None
    version: int  # changes when the row changes, so a provider is rebuilt


@dataclass(slots=True)
class Snapshot:
    """Everything the serving path needs, read in one go."""

    routes: dict[str, tuple[int, RouteConfig]] = field(default_factory=dict)
    upstreams: dict[str, UpstreamConf] = field(default_factory=dict)
    limits: dict[tuple[str, str], LimitSpec] = field(default_factory=dict)
    loaded_at: float = 0.0


class ApplyReport(BaseModel):
    upstreams: dict[str, str] = Field(default_factory=dict)  # name → created|updated|unchanged
    routes: dict[str, str] = Field(default_factory=dict)  # name → "v3 deployed" | "unchanged"


def _upstream(row: UpstreamRow) -> Upstream:
    return Upstream(
        name=row.name,
        provider=row.provider,
        options=orjson.loads(row.options),
        has_api_key=row.api_key_enc is not None,
        created_at=row.created_at,
        created_by=row.created_by,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


def _limit(row: LimitRow) -> Limit:
    return Limit(
        scope=row.scope,  # type: ignore[arg-type]
        subject=row.subject,
        rpm=row.rpm,
        tpm=row.tpm,
        daily_usd=row.daily_usd,
        monthly_usd=row.monthly_usd,
        updated_at=row.updated_at,
        updated_by=row.updated_by,
    )


class GatewayConfig:
    def __init__(self, db: Database, registry: RegistryService, secrets: Secrets) -> None:
        self.db = db
        self.registry = registry
        self.secrets = secrets

    # -- upstreams ----------------------------------------------------------------------------

    def put_upstream(self, actor: Actor, name: str, req: UpstreamIn) -> Upstream:
        actor.require(Role.admin, "configuring an upstream")
        check_name(name)
        if name in BUILTIN_UPSTREAMS:
            raise InvalidInput(f"{name!r} is a built-in upstream; pick another name")
        cls = provider_class(req.provider)
        options = parse_options(req.provider, req.options).model_dump(exclude_defaults=True)
        with self.db.write() as s:
            row = s.get(UpstreamRow, name)
            before = _upstream(row).model_dump() if row else None
            key = None if req.api_key is None else self.secrets.encrypt(req.api_key)
            if row is None:
                if cls.needs_api_key and key is None:
                    raise InvalidInput(f"a {req.provider} upstream needs an api_key")
                row = UpstreamRow(
                    name=name, created_at=now_ms(), created_by=actor.name, api_key_enc=key
                )
                s.add(row)
            elif key is not None or not req.keep_api_key:
                row.api_key_enc = key
            row.provider = req.provider
            row.options = orjson.dumps(options).decode()
            row.updated_at, row.updated_by = now_ms(), actor.name
            s.flush()
            after = _upstream(row)
            # the audit log records that a key was set, never the key
            audit.record(
                s, actor, "gateway.put_upstream", "upstream", name,
                before=before, after=after.model_dump(),
            )  # fmt: skip
            return after

    def delete_upstream(self, actor: Actor, name: str) -> None:
        actor.require(Role.admin, "deleting an upstream")
        users = [r for r, (_, cfg) in self._routes().items() if name in _upstreams_of(cfg)]
        if users:
            raise InvalidInput(f"upstream {name!r} is used by routes: {', '.join(users)}")
        with self.db.write() as s:
            row = s.get(UpstreamRow, name)
            if row is None:
                raise NotFound(f"no upstream named {name!r}")
            audit.record(
                s, actor, "gateway.delete_upstream", "upstream", name,
                before=_upstream(row).model_dump(),
            )  # fmt: skip
            s.delete(row)

    def list_upstreams(self) -> list[Upstream]:
        builtin = [
            Upstream(name=n, provider=p, options={}, has_api_key=False, builtin=True)
            for n, p in BUILTIN_UPSTREAMS.items()
        ]
        with self.db.read() as s:
            rows = s.scalars(select(UpstreamRow).order_by(UpstreamRow.name))
            return builtin + [_upstream(r) for r in rows]

    def _upstream_confs(self) -> dict[str, UpstreamConf]:
        out = {n: UpstreamConf(n, p, {}, None, 0) for n, p in BUILTIN_UPSTREAMS.items()}
        with self.db.read() as s:
            for r in s.scalars(select(UpstreamRow)):
                key = self.secrets.decrypt(r.api_key_enc) if r.api_key_enc else None
                out[r.name] = UpstreamConf(
                    r.name, r.provider, orjson.loads(r.options), key, r.updated_at
                )
        return out

    # -- limits -------------------------------------------------------------------------------

    def set_limit(self, actor: Actor, scope: Scope, subject: str, spec: LimitSpec) -> Limit:
        actor.require(Role.admin, "setting limits")
        if scope not in ("key", "tenant"):
            raise InvalidInput("limits apply to a 'key' or a 'tenant'")
        if not subject or len(subject) > 200:
            raise InvalidInput("the subject is a key id or a tenant name (1 to 200 characters)")
        with self.db.write() as s:
            row = s.get(LimitRow, (scope, subject))
            before = _limit(row).model_dump() if row else None
            if row is None:
                row = LimitRow(scope=scope, subject=subject)
                s.add(row)
            row.rpm, row.tpm = spec.rpm, spec.tpm
            row.daily_usd, row.monthly_usd = spec.daily_usd, spec.monthly_usd
            row.updated_at, row.updated_by = now_ms(), actor.name
            s.flush()
            after = _limit(row)
            audit.record(
                s, actor, "gateway.set_limit", "limit", f"{scope}:{subject}",
                before=before, after=after.model_dump(),
            )  # fmt: skip
            return after

    def delete_limit(self, actor: Actor, scope: Scope, subject: str) -> None:
        actor.require(Role.admin, "removing limits")
        with self.db.write() as s:
            row = s.get(LimitRow, (scope, subject))
            if row is None:
                raise NotFound(f"no limits set for {scope} {subject!r}")
            audit.record(
                s, actor, "gateway.delete_limit", "limit", f"{scope}:{subject}",
                before=_limit(row).model_dump(),
            )  # fmt: skip
            s.delete(row)

    def list_limits(self) -> list[Limit]:
        with self.db.read() as s:
            rows = s.scalars(select(LimitRow).order_by(LimitRow.scope, LimitRow.subject))
            return [_limit(r) for r in rows]

    # -- routes -------------------------------------------------------------------------------

    def put_route(
        self, actor: Actor, name: str, config: RouteConfig, *, deploy: bool = True
    ) -> tuple[RouteInfo, bool]:
        """Store ``config`` as a new version of route ``name`` (unless unchanged) and point
        ``production`` at it. Returns the route and whether anything changed."""
        actor.require(Role.editor, "changing a route")
        self._check_route(name, config)
        payload = config.model_dump(mode="json", exclude_defaults=True)
        payload["targets"] = [t.model_dump(mode="json", exclude_defaults=True)
                              for t in config.targets]  # fmt: skip
        version = self.registry.create_version(
            actor,
            name,
            CreateVersion(payload=payload, description=config.description, dedupe=True),
            kind=Kind.route,
        )
        changed = DEFAULT_ALIAS not in version.aliases
        if deploy and changed:
            self.registry.set_alias(
                actor, name, DEFAULT_ALIAS, version.version, reason="route deployed"
            )
        return RouteInfo(name=name, version=version.version, alias=DEFAULT_ALIAS,
                         config=config), changed  # fmt: skip

    def _check_policy(self, route: str, ref: str) -> None:
        from shipyard.guardrails.policy import Policy, parse_spec

        policy, _, alias = ref.partition("@")
        try:
            version = self.registry.fetch(policy, Kind.policy, alias=alias or DEFAULT_ALIAS)
        except ShipyardError as exc:
            raise InvalidInput(f"route {route!r}: policy {ref!r}: {exc.message}") from None
        Policy(parse_spec(version.payload or {}))  # its checks build

    def _check_route(self, name: str, config: RouteConfig) -> None:
        check_name(name)
        if config.policy:
            self._check_policy(name, config.policy)
        for spec in config.guardrails:
            try:
                build_hook(spec.name, spec.options)
            except ShipyardError as exc:
                raise InvalidInput(f"route {name!r}: {exc.message}") from None
        known = {u.name: u.provider for u in self.list_upstreams()}
        for t in config.all_targets():
            provider = known.get(t.upstream)
            if provider is None:
                raise InvalidInput(
                    f"route {name!r}: no upstream named {t.upstream!r} "
                    f"(known: {', '.join(sorted(known))})"
                )
            ops = provider_class(provider).operations
            wanted = "embeddings" if config.operation == "embeddings" else "chat"
            if wanted not in ops:
                raise InvalidInput(
                    f"route {name!r}: upstream {t.upstream!r} ({provider}) does not serve "
                    f"{config.operation}"
                )

    def _routes(self) -> dict[str, tuple[int, RouteConfig]]:
        out = {}
        for name, (version, payload) in self.registry.deployed(Kind.route).items():
            try:
                out[name] = (version, parse_route(payload, name))
            except InvalidInput as exc:  # one bad route must not take the others down
                log.error("route %s version %s is not served: %s", name, version, exc.message)
        return out

    def list_routes(self) -> list[RouteInfo]:
        return [
            RouteInfo(name=n, version=v, alias=DEFAULT_ALIAS, config=c)
            for n, (v, c) in sorted(self._routes().items())
        ]

    def apply(self, actor: Actor, doc: Any) -> ApplyReport:
        """Apply a document of ``upstreams:`` and ``routes:`` (what ``shipyard gateway apply``
        reads from YAML). Unchanged items are left alone; changed routes get a new version."""
        if not isinstance(doc, dict) or not set(doc) <= {"upstreams", "routes"}:
            raise InvalidInput("a gateway file has 'upstreams:' and 'routes:' sections only")
        report = ApplyReport()
        current = {u.name: u for u in self.list_upstreams()}
        for name, spec in (doc.get("upstreams") or {}).items():
            req = UpstreamIn.model_validate(spec)
            old = current.get(name)
            opts = parse_options(req.provider, req.options).model_dump(exclude_defaults=True)
            same = (
                old is not None
                and old.provider == req.provider
                and old.options == opts
                and req.api_key is None
            )
            if same:
                report.upstreams[name] = "unchanged"
                continue
            self.put_upstream(actor, name, req)
            report.upstreams[name] = "updated" if old else "created"
        for name, spec in (doc.get("routes") or {}).items():
            info, changed = self.put_route(actor, name, parse_route(spec, name))
            report.routes[name] = f"v{info.version} deployed" if changed else "unchanged"
        return report

    # -- the serving snapshot -----------------------------------------------------------------

    def snapshot(self) -> Snapshot:
        with self.db.read() as s:
            limits = {
                (r.scope, r.subject): LimitSpec(
                    rpm=r.rpm, tpm=r.tpm, daily_usd=r.daily_usd, monthly_usd=r.monthly_usd
                )
                for r in s.scalars(select(LimitRow))
            }
        return Snapshot(
            routes=self._routes(),
            upstreams=self._upstream_confs(),
            limits=limits,
            loaded_at=time.monotonic(),
        )


def _upstreams_of(cfg: RouteConfig) -> set[str]:
    return {t.upstream for t in cfg.all_targets()}
