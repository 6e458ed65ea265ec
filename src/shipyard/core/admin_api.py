"""The admin interface of the SDK (keys, audit log, identity), local and remote alike."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipyard.core.identity import Actor, ApiKey, AuditPage, NewApiKey, Role


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


def actor_info(actor: Actor) -> dict[str, str | None]:
    return {
        "name": actor.name,
        "role": actor.role.value,
        "tenant": actor.tenant,
        "key_id": actor.key_id,
    }
