"""The unified registry: /api/v1/registry, plus content-addressed blobs at /api/v1/artifacts."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse

from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.registry.schemas import (
    AliasEvent,
    Approve,
    CreateEntry,
    CreateVersion,
    Entry,
    Kind,
    Lineage,
    Rollback,
    SetAlias,
    UpdateEntry,
    Version,
)
from shipyard.server.deps import admin, editor, platform, viewer
from shipyard.server.streams import stream_blob, upload_to_store
from shipyard.store.artifacts import check_digest

router = APIRouter(prefix="/api/v1", tags=["registry"])


@router.get("/registry")
def list_entries(
    kind: Kind | None = None,
    search: str | None = None,
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> dict[str, list[Entry]]:
    return {"entries": p.registry.list_entries(kind, search)}


@router.post("/registry", status_code=201)
def create_entry(
    req: CreateEntry, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Entry:
    return p.registry.create_entry(actor, req)


@router.get("/registry-resolve")
def resolve(
    ref: str = Query(description="name@alias, name/3 or name"),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Version:
    return p.registry.resolve(ref)


@router.get("/registry/{name}")
def get_entry(name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> Entry:
    return p.registry.get_entry(name)


@router.patch("/registry/{name}")
def update_entry(
    name: str, req: UpdateEntry, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Entry:
    return p.registry.update_entry(actor, name, req)


@router.get("/registry/{name}/versions")
def list_versions(
    name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[Version]]:
    return {"versions": p.registry.list_versions(name)}


@router.post("/registry/{name}/versions", status_code=201)
def create_version(
    name: str,
    req: CreateVersion,
    kind: Kind | None = Query(default=None, description="create the entry with this kind if new"),
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> Version:
    return p.registry.create_version(actor, name, req, kind=kind)


@router.get("/registry/{name}/versions/{version}")
def get_version(
    name: str, version: int, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> Version:
    return p.registry.get_version(name, version=version)


@router.get("/registry/{name}/resolve")
def get_by_alias(
    name: str,
    alias: str | None = Query(default=None, description="default: production"),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Version:
    return p.registry.get_version(name, alias=alias)


@router.put("/registry/{name}/aliases/{alias}")
def set_alias(
    name: str,
    alias: str,
    req: SetAlias,
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> AliasEvent:
    return p.registry.set_alias(actor, name, alias, req.version, req.reason)


@router.delete("/registry/{name}/aliases/{alias}")
def delete_alias(
    name: str,
    alias: str,
    reason: str = "",
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> AliasEvent:
    return p.registry.delete_alias(actor, name, alias, reason)


@router.post("/registry/{name}/aliases/{alias}/rollback")
def rollback(
    name: str,
    alias: str,
    req: Rollback,
    p: Platform = Depends(platform),
    actor: Actor = Depends(editor),
) -> AliasEvent:
    return p.registry.rollback(actor, name, alias, req.reason)


@router.get("/registry/{name}/history")
def history(
    name: str,
    alias: str | None = None,
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> dict[str, list[AliasEvent]]:
    return {"events": p.registry.history(name, alias)}


@router.post("/registry/{name}/versions/{version}/approve")
def approve(
    name: str,
    version: int,
    req: Approve,
    p: Platform = Depends(platform),
    actor: Actor = Depends(admin),
) -> Version:
    return p.registry.approve(actor, name, version, req.comment)


@router.get("/registry/{name}/versions/{version}/lineage")
def lineage(
    name: str, version: int, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> Lineage:
    return p.registry.lineage(name, version)


@router.post("/artifacts", status_code=201, tags=["artifacts"])
async def upload_blob(request: Request, _: Actor = Depends(editor)) -> dict[str, object]:
    """Store the request body as a content-addressed blob; returns its sha256 digest."""
    digest, size = await upload_to_store(request, request.app.state.platform)
    return {"digest": digest, "size": size}


@router.get("/artifacts/{digest}", tags=["artifacts"])
def download_blob(
    digest: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> StreamingResponse:
    return stream_blob(p, check_digest(digest))
