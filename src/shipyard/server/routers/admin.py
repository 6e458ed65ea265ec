"""API keys and the audit log (admins only)."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Query
from pydantic import BaseModel, Field

from shipyard.core.identity import Actor, ApiKey, AuditPage, AuditQuery, NewApiKey, Role
from shipyard.platform import Platform
from shipyard.server.deps import admin, platform

router = APIRouter(prefix="/api/v1", tags=["admin"])


class CreateKey(BaseModel):
    role: Role
    name: str | None = Field(default=None, max_length=200)
    tenant: str | None = Field(default=None, max_length=200)


@router.post("/keys", status_code=201)
def create_key(
    req: CreateKey, p: Platform = Depends(platform), actor: Actor = Depends(admin)
) -> NewApiKey:
    return p.admin.create_key(actor, role=req.role, name=req.name, tenant=req.tenant)


@router.get("/keys")
def list_keys(
    include_revoked: bool = False, p: Platform = Depends(platform), actor: Actor = Depends(admin)
) -> dict[str, list[ApiKey]]:
    return {"keys": p.admin.list_keys(actor, include_revoked=include_revoked)}


@router.delete("/keys/{key_id}")
def revoke_key(
    key_id: str, p: Platform = Depends(platform), actor: Actor = Depends(admin)
) -> ApiKey:
    return p.admin.revoke_key(actor, key_id)


@router.get("/audit")
def audit_log(
    q: Annotated[AuditQuery, Query()],
    p: Platform = Depends(platform),
    who: Actor = Depends(admin),
) -> AuditPage:
    """Newest first. ``action`` accepts ``*`` wildcards (``registry.*``)."""
    return p.admin.audit_events(who, q)
