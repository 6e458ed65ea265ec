"""Who is acting, and the admin types the SDK sees (keys, audit events). No database imports."""

from __future__ import annotations

import getpass
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from pydantic import BaseModel, Field

from shipyard.core.errors import InvalidInput, PermissionDenied

KEY_PREFIX = "shy_"  # every Shipyard API key starts with it


class Role(StrEnum):
    viewer = "viewer"
    editor = "editor"
    admin = "admin"

    @property
    def rank(self) -> int:
        return {"viewer": 0, "editor": 1, "admin": 2}[self.value]

    @classmethod
    def parse(cls, value: str) -> Role:
        try:
            return cls(value)
        except ValueError:
            raise InvalidInput(
                f"unknown role {value!r}: use one of viewer, editor, admin"
            ) from None


@dataclass(frozen=True)
class Actor:
    """Who is making a request: a key's owner, or the local user when embedded."""

    name: str
    role: Role
    tenant: str | None = None
    key_id: str | None = None

    def require(self, role: Role, action: str = "this action") -> None:
        if self.role.rank < role.rank:
            raise PermissionDenied(
                f"{action} needs the {role.value} role; {self.name} has {self.role.value}"
            )

    @classmethod
    def local(cls) -> Actor:
        try:
            user = getpass.getuser()
        except Exception:
            user = "unknown"
        return cls(name=f"local:{user}", role=Role.admin)


ANONYMOUS = Actor(name="anonymous", role=Role.admin)


class ApiKey(BaseModel):
    id: str
    name: str
    role: Role
    tenant: str | None
    created_at: int
    created_by: str
    revoked_at: int | None
    last_used_at: int | None


class NewApiKey(ApiKey):
    key: str  # the only time the secret is shown


class AuditEvent(BaseModel):
    id: str
    time_ms: int
    actor: str
    role: str
    tenant: str | None
    action: str
    target_type: str
    target: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None


class AuditPage(BaseModel):
    events: list[AuditEvent]
    next_cursor: str | None


class AuditQuery(BaseModel):
    """Filters for the audit log; ``action`` takes ``*`` wildcards (``registry.*``)."""

    actor: str | None = None
    action: str | None = None
    target_type: str | None = None
    target: str | None = None
    since_ms: int | None = Field(default=None, ge=0, le=2**62)
    until_ms: int | None = Field(default=None, ge=0, le=2**62)
    limit: int = Field(default=100, ge=1, le=1000)
    cursor: str | None = Field(default=None, max_length=32)
