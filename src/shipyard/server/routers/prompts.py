"""Prompts: /api/v1/prompts. Labels move through /api/v1/registry/{name}/aliases."""

from __future__ import annotations

from typing import Any

import orjson
from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.prompts.schemas import CreatePrompt, PromptDiff, PromptSummary, PromptVersion
from shipyard.prompts.service import wire
from shipyard.server.deps import editor, platform, viewer

router = APIRouter(prefix="/api/v1/prompts", tags=["prompts"])


@router.get("")
def list_prompts(
    search: str | None = None, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[PromptSummary]]:
    return {"prompts": p.prompts.list_prompts(search)}


@router.get("/{name}", response_model=PromptVersion)
def get_prompt(
    name: str,
    label: str | None = Query(None, description="a label; neither label nor version: production"),
    version: int | None = Query(None, ge=1, le=2**31 - 1),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> Any:
    body = orjson.dumps(wire(p.prompts.get(name, label, version)))
    return Response(body, media_type="application/json")


@router.post("/{name}/versions", status_code=201)
def create_version(
    name: str, req: CreatePrompt, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> PromptVersion:
    return p.prompts.create(actor, name, req)


@router.get("/{name}/versions")
def list_versions(
    name: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, list[PromptVersion]]:
    return {"versions": p.prompts.versions(name)}


@router.get("/{name}/diff")
def diff(
    name: str,
    from_version: int = Query(alias="from", ge=1, le=2**31 - 1),
    to_version: int = Query(alias="to", ge=1, le=2**31 - 1),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> PromptDiff:
    return p.prompts.diff(name, from_version, to_version)
