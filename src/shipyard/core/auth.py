"""API keys and roles.

A key looks like ``shy_<12-char id>_<secret>``; only its sha256 is stored, so a
key is shown once, at creation. Roles are ordered: viewer < editor < admin.
"""

from __future__ import annotations

import hashlib
import secrets

from sqlalchemy import Index, String, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from shipyard.core.errors import NotFound, Unauthenticated
from shipyard.core.identity import ANONYMOUS, KEY_PREFIX, Actor, ApiKey, NewApiKey, Role
from shipyard.core.ids import now_ms
from shipyard.store.base import Base

__all__ = ["ANONYMOUS", "Actor", "ApiKey", "NewApiKey", "Role"]


class ApiKeyRow(Base):
    __tablename__ = "api_keys"
    id: Mapped[str] = mapped_column(String(12), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(20))
    tenant: Mapped[str | None] = mapped_column(String(200))
    secret_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[int]
    created_by: Mapped[str] = mapped_column(String(200))
    revoked_at: Mapped[int | None]
    last_used_at: Mapped[int | None]

    __table_args__ = (Index(None, "secret_hash", unique=True),)


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


def create_key(
    session: Session, *, role: Role, name: str | None, tenant: str | None, created_by: str
) -> NewApiKey:
    key_id = secrets.token_hex(6)
    key = f"{KEY_PREFIX}{key_id}_{secrets.token_urlsafe(32)}"
    row = ApiKeyRow(
        id=key_id,
        name=name or f"key-{key_id}",
        role=role.value,
        tenant=tenant,
        secret_hash=_hash(key),
        created_at=now_ms(),
        created_by=created_by,
        revoked_at=None,
        last_used_at=None,
    )
    session.add(row)
    session.flush()
    return NewApiKey(key=key, **ApiKey.model_validate(row, from_attributes=True).model_dump())


def list_keys(session: Session, *, include_revoked: bool = False) -> list[ApiKey]:
    stmt = select(ApiKeyRow).order_by(ApiKeyRow.created_at)
    if not include_revoked:
        stmt = stmt.where(ApiKeyRow.revoked_at.is_(None))
    return [ApiKey.model_validate(r, from_attributes=True) for r in session.scalars(stmt)]


def revoke_key(session: Session, key_id: str) -> ApiKey:
    row = session.get(ApiKeyRow, key_id)
    if row is None:
        raise NotFound(f"no API key with id {key_id!r}")
    if row.revoked_at is None:
        row.revoked_at = now_ms()
    return ApiKey.model_validate(row, from_attributes=True)


def authenticate(session: Session, key: str) -> tuple[Actor, int | None]:
    """The actor a presented key stands for, and when the key was last used.

    Unauthenticated if the key is unknown or revoked."""
    if not key.startswith(KEY_PREFIX):
        raise Unauthenticated("malformed API key (Shipyard keys start with 'shy_')")
    row = session.scalars(select(ApiKeyRow).where(ApiKeyRow.secret_hash == _hash(key))).first()
    if row is None:
        raise Unauthenticated("unknown API key")
    if row.revoked_at is not None:
        raise Unauthenticated(f"API key {row.id} was revoked")
    actor = Actor(name=row.name, role=Role(row.role), tenant=row.tenant, key_id=row.id)
    return actor, row.last_used_at


def touch_key(session: Session, key_id: str) -> None:
    row = session.get(ApiKeyRow, key_id)
    if row is not None:
        row.last_used_at = now_ms()


def count_admin_keys(session: Session) -> int:
    stmt = select(ApiKeyRow.id).where(
        ApiKeyRow.revoked_at.is_(None), ApiKeyRow.role == Role.admin.value
    )
    return len(list(session.scalars(stmt)))
