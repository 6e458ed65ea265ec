"""RAG: /api/v1/rag — indexes (versions live in the registry, kind ``index``) and searches."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends, Header, Query
from pydantic import BaseModel
from starlette.concurrency import run_in_threadpool

from shipyard.core.identity import Actor
from shipyard.gateway.telemetry import parse_traceparent
from shipyard.platform import Platform
from shipyard.rag.api import Loaded, Serving
from shipyard.rag.apps import AskRequest, RagAnswer, build_runner
from shipyard.rag.retrieval import SearchRequest, SearchResult
from shipyard.registry.schemas import Entry, Kind
from shipyard.server.bridge import gateway_call
from shipyard.server.deps import editor, platform, viewer
from shipyard.tracing.stats import RetrievalStats

router = APIRouter(prefix="/api/v1/rag", tags=["rag"])


def _context(traceparent: str | None, project: str | None, actor: Actor) -> dict[str, Any]:
    """Where a request's spans go: its project, the key's tenant, the caller's trace."""
    context: dict[str, Any] = {"project": project or "rag", "tenant": actor.tenant}
    parent = parse_traceparent(traceparent)
    if parent is not None:
        context["trace_id"], context["parent_id"] = parent
    return context


class IndexList(BaseModel):
    indexes: list[Entry]


@router.get("/indexes")
def list_indexes(
    search: str | None = None, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> IndexList:
    return IndexList(indexes=p.registry.list_entries(Kind.index, search))


@router.get("/serving")
def serving(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> Serving:
    """What this server offers: the backend ``auto`` picks for large indexes."""
    return p.rag.serving()


@router.post("/indexes/{name}/versions/{version}/load")
def load(
    name: str, version: int, p: Platform = Depends(platform), _: Actor = Depends(editor)
) -> Loaded:
    """Load a version here (building its pgvector table), so no search waits for it."""
    return p.rag.load(name, version)


@router.post("/indexes/{name}/search")
def search(
    name: str,
    req: SearchRequest,
    traceparent: str | None = Header(None),
    x_shipyard_project: str | None = Header(None),
    p: Platform = Depends(platform),
    actor: Actor = Depends(viewer),
) -> SearchResult:
    """The top chunks for a query from the version behind ``label`` (default production)."""
    return p.rag.search(name, req, **_context(traceparent, x_shipyard_project, actor))


class AppList(BaseModel):
    apps: list[Entry]


@router.get("/apps")
def list_apps(
    search: str | None = None, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> AppList:
    return AppList(apps=p.registry.list_entries(Kind.app, search))


@router.post("/apps/{name}/ask")
async def ask(
    name: str,
    req: AskRequest,
    traceparent: str | None = Header(None),
    x_shipyard_project: str | None = Header(None),
    p: Platform = Depends(platform),
    actor: Actor = Depends(viewer),
) -> RagAnswer:
    """Answer a question with a RAG app: retrieval, its prompt and model, citations and a
    groundedness score, all in one trace."""
    call = gateway_call(p, actor, asyncio.get_running_loop())
    runner = build_runner(p, p.rag.search, call, p.rag.exporter, actor)
    context = _context(traceparent, x_shipyard_project, actor)
    return await run_in_threadpool(runner.ask, name, req, **context)


class StatsList(BaseModel):
    indexes: list[RetrievalStats]


@router.get("/stats")
def stats(
    index: str | None = None,
    threshold: float | None = Query(None, ge=-1.0, le=1.0, description="default: server's"),
    since_ms: int | None = Query(None, ge=0, le=2**62),
    until_ms: int | None = Query(None, ge=0, le=2**62),
    p: Platform = Depends(platform),
    _: Actor = Depends(viewer),
) -> StatsList:
    """Per index version: searches in the window (default the last 24 h) and the share whose
    best cosine score reaches the threshold."""
    cut = p.settings.rag.rag_score_threshold if threshold is None else threshold
    return StatsList(indexes=p.tracing.retrieval_stats(index, cut, since_ms, until_ms))
