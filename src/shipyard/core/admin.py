"""Keys and the audit log as a service (the writes of ``api_keys``; reads of ``audit_events``)."""

from __future__ import annotations

import threading
import time

from shipyard.core import audit, auth
from shipyard.core.admin_api import AdminAPI, actor_info
from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor, ApiKey, AuditPage, AuditQuery, NewApiKey, Role
from shipyard.core.ids import now_ms
from shipyard.store.db import Database

# A validated key is trusted this long before it is looked up again; revoking
# through this process clears it at once.
AUTH_CACHE_S = 5.0
# ``last_used_at`` of a key is refreshed at most this often.
TOUCH_EVERY_MS = 60_000


class AdminService:
    def __init__(self, db: Database) -> None:
        self.db = db
        self._cache: dict[str, tuple[float, Actor]] = {}
        self._lock = threading.Lock()

    def create_key(
        self, actor: Actor, *, role: Role, name: str | None = None, tenant: str | None = None
    ) -> NewApiKey:
        actor.require(Role.admin, "creating API keys")
        if name is not None and not (0 < len(name) <= 200):
            raise InvalidInput("key names are 1 to 200 characters")
        with self.db.write() as s:
            key = auth.create_key(s, role=role, name=name, tenant=tenant, created_by=actor.name)
            audit.record(
                s,
                actor,
                "key.create",
                "key",
                key.id,
                after={"name": key.name, "role": role.value, "tenant": tenant},
            )
            return key

    def list_keys(self, actor: Actor, *, include_revoked: bool = False) -> list[ApiKey]:
        actor.require(Role.admin, "listing API keys")
        with self.db.read() as s:
            return auth.list_keys(s, include_revoked=include_revoked)

    def revoke_key(self, actor: Actor, key_id: str) -> ApiKey:
        actor.require(Role.admin, "revoking API keys")
        with self.db.write() as s:
            key = auth.revoke_key(s, key_id)
            audit.record(
                s,
                actor,
                "key.revoke",
                "key",
                key_id,
                before={"revoked_at": None},
                after={"revoked_at": key.revoked_at},
            )
        with self._lock:
            self._cache = {k: v for k, v in self._cache.items() if v[1].key_id != key_id}
        return key

    def authenticate(self, key: str) -> Actor:
        now = time.monotonic()
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None and now - hit[0] < AUTH_CACHE_S:
            return hit[1]
        with self.db.read() as s:
            actor, last_used = auth.authenticate(s, key)
        if actor.key_id and (last_used is None or now_ms() - last_used > TOUCH_EVERY_MS):
            with self.db.write() as s:
                auth.touch_key(s, actor.key_id)
        with self._lock:
            if len(self._cache) > 10_000:
                self._cache.clear()
            self._cache[key] = (now, actor)
        return actor

    def has_admin_key(self) -> bool:
        with self.db.read() as s:
            return auth.count_admin_keys(s) > 0

    def audit_events(self, actor: Actor, q: AuditQuery) -> AuditPage:
        actor.require(Role.admin, "reading the audit log")
        with self.db.read() as s:
            return audit.query(s, q)


class LocalAdmin(AdminAPI):
    def __init__(self, service: AdminService, actor: Actor) -> None:
        self.service = service
        self.actor = actor

    def create_key(
        self, role: Role, *, name: str | None = None, tenant: str | None = None
    ) -> NewApiKey:
        return self.service.create_key(self.actor, role=role, name=name, tenant=tenant)

    def list_keys(self, include_revoked: bool = False) -> list[ApiKey]:
        return self.service.list_keys(self.actor, include_revoked=include_revoked)

    def revoke_key(self, key_id: str) -> ApiKey:
        return self.service.revoke_key(self.actor, key_id)

    def audit(self, query: AuditQuery | None = None) -> AuditPage:
        return self.service.audit_events(self.actor, query or AuditQuery())

    def whoami(self) -> dict[str, str | None]:
        return actor_info(self.actor)
