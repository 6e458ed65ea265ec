"""Liveness and identity."""

from __future__ import annotations

from fastapi import APIRouter, Depends
from fastapi.responses import PlainTextResponse, RedirectResponse

from shipyard import __version__
from shipyard.core.admin_api import actor_info
from shipyard.core.identity import Actor
from shipyard.platform import Platform
from shipyard.server.deps import platform, viewer

router = APIRouter()


@router.get("/", include_in_schema=False)
def root() -> RedirectResponse:
    """Until the web UI is served here, the root shows the API documentation."""
    return RedirectResponse("/docs")


@router.get("/healthz", tags=["health"])
def healthz(p: Platform = Depends(platform)) -> dict[str, str]:
    """Answers 200 when the server and its database are up."""
    p.db.ping()
    return {"status": "ok", "version": __version__, "database": p.db.dialect}


@router.get("/metrics", tags=["health"], response_class=PlainTextResponse)
def metrics(p: Platform = Depends(platform), _: Actor = Depends(viewer)) -> PlainTextResponse:
    """Prometheus exposition: HTTP traffic, and LLM requests, latency, tokens and cost."""
    return PlainTextResponse(p.metrics.render(), media_type="text/plain; version=0.0.4")


@router.get("/api/v1/whoami", tags=["admin"])
def whoami(actor: Actor = Depends(viewer)) -> dict[str, str | None]:
    return actor_info(actor)
