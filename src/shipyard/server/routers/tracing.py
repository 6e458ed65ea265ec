"""Traces: OTLP/HTTP ingest at /v1/traces, the native batch API, queries and scores."""

from __future__ import annotations

import gzip
import zlib
from typing import Annotated

from fastapi import APIRouter, Depends, Query, Request, Response

from shipyard.core.errors import InvalidInput
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.server.deps import admin, editor, platform, viewer
from shipyard.tracing.privacy import ProjectSettings
from shipyard.tracing.schemas import Score, ScoreIn, SpanBatch, TraceDetail, TracePage, TraceQuery
from shipyard.tracing.stats import StatsQuery, StatsReport

router = APIRouter(tags=["tracing"])
PROJECT_HEADER = "x-shipyard-project"


def _inflate(body: bytes, encoding: str | None) -> bytes:
    enc = (encoding or "identity").strip().lower()
    try:
        if enc == "gzip":
            return gzip.decompress(body)
        if enc == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError) as exc:
        raise InvalidInput(f"the body is not valid {enc} data: {exc}") from None
    if enc != "identity":
        raise InvalidInput(f"unsupported Content-Encoding {encoding!r}")
    return body


@router.post(
    "/v1/traces",
    openapi_extra={
        "requestBody": {
            "required": True,
            "content": {
                "application/x-protobuf": {"schema": {"type": "string", "format": "binary"}},
                "application/json": {"schema": {"type": "object"}},
            },
        }
    },
)
async def otlp_traces(request: Request, _: Actor = Depends(editor)) -> Response:
    """OTLP/HTTP trace export (protobuf or JSON). Answers once the spans are committed."""
    p: Platform = request.app.state.platform
    body = _inflate(await request.body(), request.headers.get("content-encoding"))
    ctype = request.headers.get("content-type", "application/x-protobuf")
    await p.tracing.ingest_otlp(body, ctype, request.headers.get(PROJECT_HEADER))
    if ctype.startswith("application/json"):
        return Response(b"{}", media_type="application/json")
    from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import (
        ExportTraceServiceResponse,
    )

    return Response(
        ExportTraceServiceResponse().SerializeToString(), media_type="application/x-protobuf"
    )


@router.post("/api/v1/traces/batch")
async def ingest_batch(
    batch: SpanBatch, request: Request, _: Actor = Depends(editor)
) -> dict[str, int]:
    """Spans in Shipyard's native JSON shape; answers once they are committed."""
    p: Platform = request.app.state.platform
    spans = p.tracing.decode_native(batch.spans, request.headers.get(PROJECT_HEADER))
    return {"stored": await p.tracing.ingest_async(spans)}


@router.get("/api/v1/traces")
def list_traces(
    q: Annotated[TraceQuery, Query()], p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> TracePage:
    """Newest first; pass ``next_cursor`` back as ``cursor`` for the next page."""
    return p.tracing.list_traces(q)


@router.get("/api/v1/stats")
def stats(
    q: Annotated[StatsQuery, Query()], p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> StatsReport:
    """Aggregates over a window, grouped by model, prompt, route, tenant, feature or user."""
    return p.tracing.stats(q)


@router.get("/api/v1/traces/{trace_id}")
def get_trace(
    trace_id: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> TraceDetail:
    """One trace with every span (parents before children) and its scores."""
    return p.tracing.get_trace(trace_id)


@router.post("/api/v1/scores", status_code=201)
def add_score(
    req: ScoreIn, p: Platform = Depends(platform), actor: Actor = Depends(editor)
) -> Score:
    """Feedback or an evaluation on a trace (or one of its spans)."""
    return p.tracing.add_score(actor, req)


@router.get("/api/v1/trace-projects")
def list_projects(
    p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> dict[str, ProjectSettings]:
    """Projects with non-default trace settings."""
    return p.tracing.list_project_settings()


@router.get("/api/v1/trace-projects/{project:path}")
def get_project(
    project: str, p: Platform = Depends(platform), _: Actor = Depends(viewer)
) -> ProjectSettings:
    return p.tracing.project_settings(project)


@router.put("/api/v1/trace-projects/{project:path}")
def set_project(
    project: str,
    settings: ProjectSettings,
    p: Platform = Depends(platform),
    actor: Actor = Depends(admin),
) -> ProjectSettings:
    """Privacy and retention of a project's traces (admins); applies to spans stored from now."""
    return p.tracing.set_project_settings(actor, project, settings)
