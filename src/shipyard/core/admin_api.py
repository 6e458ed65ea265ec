"""The admin interface of the SDK (keys, audit log, identity), local and remote alike."""

from __future__ import annotations

from abc import ABC, abstractmethod

from shipyard.core.identity import Actor, ApiKey, AuditPage, AuditQuery, NewApiKey, Role


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
    def audit(self, query: AuditQuery | None = None) -> AuditPage:
        """Audit events, newest first (admins)."""

    @abstractmethod
    def whoami(self) -> dict[str, str | None]: ...


def actor_info(actor: Actor) -> dict[str, str | None]:
    return {
        "name": actor.name,
        "role": actor.role.value,
        "tenant": actor.tenant,
        "key_id": actor.key_id,
    }
