"""The admin SDK (keys, audit, identity) over the REST API."""

from __future__ import annotations

from shipyard.client.http import Transport
from shipyard.core.admin_api import AdminAPI
from shipyard.core.identity import ApiKey, AuditPage, AuditQuery, NewApiKey, Role


class RemoteAdmin(AdminAPI):
    def __init__(self, transport: Transport) -> None:
        self.t = transport

    def create_key(
        self, role: Role, *, name: str | None = None, tenant: str | None = None
    ) -> NewApiKey:
        body = {"role": role.value, "name": name, "tenant": tenant}
        return NewApiKey.model_validate(self.t.call("POST", "/api/v1/keys", json=body))

    def list_keys(self, include_revoked: bool = False) -> list[ApiKey]:
        params = {"include_revoked": "true"} if include_revoked else None
        data = self.t.call("GET", "/api/v1/keys", params=params)
        return [ApiKey.model_validate(k) for k in data["keys"]]

    def revoke_key(self, key_id: str) -> ApiKey:
        return ApiKey.model_validate(self.t.call("DELETE", f"/api/v1/keys/{key_id}"))

    def audit(self, query: AuditQuery | None = None) -> AuditPage:
        params = (query or AuditQuery()).model_dump(exclude_none=True)
        return AuditPage.model_validate(self.t.call("GET", "/api/v1/audit", params=params))

    def whoami(self) -> dict[str, str | None]:
        data: dict[str, str | None] = self.t.call("GET", "/api/v1/whoami")
        return data
