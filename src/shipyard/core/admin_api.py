"""The admin interface of the SDK (keys, audit log, identity), local and remote alike."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipyard.core.admin import AdminService
from shipyard.core.audit import AuditPage
from shipyard.core.auth import Actor, ApiKey, NewApiKey, Role


class AdminAPI(ABC):
    @abstractmethod
    def create_key(
        self, role: Role, *, name: str | None = None, tenant: str | None = None
    ) -> NewApiKey: ...

    @abstractmethod
    def list_keys(self, include_revoked: bool = False) -> list[ApiKey]: ...

    @abstractmethod
    def revoke_key(self, key_id: str) -> ApiKey: ...

    @abstractmethod
    def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        target: str | None = None,
        since_ms: int | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditPage: ...

    @abstractmethod
    def whoami(self) -> dict[str, str | None]: ...


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

    def audit(
        self,
        *,
        actor: str | None = None,
        action: str | None = None,
        target_type: str | None = None,
        target: str | None = None,
        since_ms: int | None = None,
        limit: int = 100,
        cursor: str | None = None,
    ) -> AuditPage:
        return self.service.audit_events(
            self.actor,
            actor_name=actor,
            action=action,
            target_type=target_type,
            target=target,
            since_ms=since_ms,
            limit=limit,
            cursor=cursor,
        )

    def whoami(self) -> dict[str, str | None]:
        return actor_info(self.actor)


def actor_info(actor: Actor) -> dict[str, str | None]:
    return {
        "name": actor.name,
        "role": actor.role.value,
        "tenant": actor.tenant,
        "key_id": actor.key_id,
    }
